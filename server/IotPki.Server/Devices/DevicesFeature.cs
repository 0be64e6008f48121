namespace IotPki.Server.Devices;

public static class DevicesFeature
{
    public static IServiceCollection AddDevices(this IServiceCollection services)
    {
        services.AddScoped<DeviceLifecycle>();
        return services;
    }
}
