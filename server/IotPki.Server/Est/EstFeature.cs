namespace IotPki.Server.Est;

public static class EstFeature
{
    public static IServiceCollection AddEst(this IServiceCollection services)
    {
        services.AddOptions<EstOptions>().BindConfiguration(EstOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<BootstrapGate>();
        services.AddScoped<ReenrollmentGate>();
        services.AddScoped<EnrollmentService>();
        services.AddSingleton<EstMetrics>();
        services.AddSingleton<EnrollmentAdmission>();
        return services;
    }
}
