namespace IotPki.Server.Devices;

public static class DevicesFeature
{
    public static IServiceCollection AddDevices(this IServiceCollection services)
    {
        services.AddScoped<DeviceLifecycle>();
        services.AddSingleton<DeviceMetrics>();
        services.AddOptions<RenewalOptions>().BindConfiguration(RenewalOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
