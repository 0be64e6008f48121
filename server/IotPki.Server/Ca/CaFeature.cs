using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

public static class CaFeature
{
    /// <summary>The service's CAs, loaded from PostgreSQL (again after a rollover), and this instance's TLS certificate.</summary>
    public static IServiceCollection AddCa(this IServiceCollection services)
    {
        services.AddSingleton<CaPassphraseSource>();
        services.AddOptions<CaKeyOptions>().BindConfiguration(CaKeyOptions.Section);
        services.AddSingleton<CaKeyStores>();
        services.AddSingleton<PkiState>();
        services.AddSingleton<PkiInitializer>();
        services.AddScoped<IssuingCaRollover>();
        services.AddScoped<OfflineRoot>();
        services.AddSingleton<IssuingCaRetirement>();
        services.AddSingleton<IotPki.Server.Cluster.IClusterNoticeHandler, PkiChangedNotice>();
        services.AddOptions<PkiOptions>().BindConfiguration(PkiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PkiOptions>, PkiOptionsValidator>();
        return services;
    }
}
