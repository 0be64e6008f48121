using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Data;

public static class DataFeature
{
    /// <summary>PostgreSQL through the pooled context, and the clock every feature reads.</summary>
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = DatabaseConnection.Resolve(configuration);
        services.AddDbContextPool<IotPkiDbContext>(o => o.UseNpgsql(connectionString));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
