using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Data;

public static class DataFeature
{
    /// <summary>PostgreSQL through the pooled context, a plain data source for the few hot reads where EF Core's
    /// query pipeline costs more than the query (OCSP), and the clock every feature reads.</summary>
    public static IServiceCollection AddData(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = DatabaseConnection.Resolve(configuration);
        services.AddDbContextPool<IotPkiDbContext>(o => o.UseNpgsql(connectionString));
        // Multiplexed: concurrent reads share connections and go out in batches, a few syscalls for many commands.
        services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Multiplexing = true }.ConnectionString));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
