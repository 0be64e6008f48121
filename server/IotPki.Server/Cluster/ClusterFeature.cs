namespace IotPki.Server.Cluster;

public static class ClusterFeature
{
    /// <summary>Notices between server instances; features add their <see cref="IClusterNoticeHandler"/>s.</summary>
    public static IServiceCollection AddCluster(this IServiceCollection services)
    {
        services.AddSingleton<ClusterNotifier>();
        services.AddSingleton<ClusterInstance>();
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section);
        services.AddHostedService<InstanceHeartbeat>();
        services.AddSingleton<ClusterListener>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterListener>());
        return services;
    }
}
