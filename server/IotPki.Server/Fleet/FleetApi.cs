namespace IotPki.Server.Fleet;

/// <summary>The operator REST API of the fleet under <c>/api/v1</c>: manufacturers, devices, enrollments, audit.</summary>
public static class FleetApi
{
    /// <summary>Registration of manufacturers and serials, for the API and the server's CLI alike.</summary>
    public static IServiceCollection AddFleet(this IServiceCollection services)
    {
        services.AddScoped<ManufacturerRegistration>();
        services.AddScoped<DeviceRegistration>();
        return services;
    }

    public static RouteGroupBuilder MapFleetApi(this RouteGroupBuilder api)
    {
        api.MapManufacturers();
        api.MapDevices();
        api.MapEnrollments();
        api.MapAudit();
        return api;
    }
}
