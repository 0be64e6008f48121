using IotPki.Server.Data;
using IotPki.Server.Fleet;
using IotPki.Server.Pki;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Hosting;

/// <summary>What both the server and its command-line subcommands need: configuration, database, PKI.</summary>
public static class CoreServices
{
    public static IServiceCollection AddIotPkiCore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = DatabaseConnection.Resolve(configuration);
        services.AddDbContextPool<IotPkiDbContext>(o => o.UseNpgsql(connectionString));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<CaPassphraseSource>();
        services.AddSingleton<PkiState>();
        services.AddSingleton<PkiInitializer>();
        services.AddOptions<PkiOptions>().BindConfiguration(PkiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PkiOptions>, PkiOptionsValidator>();
        services.AddScoped<ManufacturerRegistration>();
        services.AddScoped<DeviceRegistration>();
        services.AddScoped<Operators.OperatorCertificates>();
        services.AddOptions<Operators.OperatorOptions>().BindConfiguration(Operators.OperatorOptions.Section);
        return services;
    }
}
