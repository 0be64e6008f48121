using IotPki.Server.Broker;
using IotPki.Server.Ca;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Devices;
using IotPki.Server.Est;
using IotPki.Server.Fleet;
using IotPki.Server.Http;
using IotPki.Server.Jobs;
using IotPki.Server.Operators;
using IotPki.Server.Renewal;
using IotPki.Server.Revocation;
using IotPki.Server.Telemetry;

namespace IotPki.Server.Hosting;

/// <summary>The server host: a table of contents of its features. It composes them and nothing uses it.</summary>
public static class IotPkiServer
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        builder.Services.AddData(builder.Configuration);
        builder.Services.AddCa();
        builder.Services.AddHostedService<ServerTlsRenewal>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IssuingCaRetirement>());
        builder.Services.AddCluster();
        builder.Services.AddDevices();
        builder.Services.AddOperatorCertificates();
        builder.Services.AddOperatorApi();
        builder.Services.AddEst();
        builder.Services.AddFleet();
        builder.Services.AddFleetPages();
        builder.Services.AddRenewal();
        builder.AddJobs();
        builder.AddRevocation();
        builder.AddBroker();
        builder.AddTelemetry();

        builder.Services.AddSingleton<ListenerEndpoints>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var pki = kestrel.ApplicationServices.GetRequiredService<PkiState>();
            var listeners = kestrel.ApplicationServices.GetRequiredService<ListenerEndpoints>();
            var est = context.Configuration.GetSection(EstOptions.Section).Get<EstOptions>() ?? new EstOptions();
            var operators = context.Configuration.GetSection(OperatorOptions.Section).Get<OperatorOptions>() ?? new OperatorOptions();
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            listeners.Register(ListenerEndpoints.Est, kestrel.ListenWithClientCertificates(est.BindAddress, est.Port, pki, ListenerEndpoints.Est));
            kestrel.ListenForRevocation(context.Configuration, est.BindAddress, listeners);
            listeners.Register(ListenerEndpoints.Operator, kestrel.ListenWithClientCertificates(operators.BindAddress, operators.Port, pki, ListenerEndpoints.Operator));
            var broker = context.Configuration.GetSection(BrokerOptions.Section).Get<BrokerOptions>() ?? new BrokerOptions();
            listeners.Register(ListenerEndpoints.Mqtt, kestrel.ListenMqtt(broker, pki));
            kestrel.ListenForMetrics(context.Configuration, listeners);
        });

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealth();
        app.MapEst();
        var api = app.MapOperatorApi();
        api.MapFleetApi();
        app.MapFleetPages();
        api.MapBrokerApi();
        api.MapRenewalApi();
        app.MapTelemetry();
        app.MapJobs();
        app.MapRevocation();
        app.MapBroker();
        return app;
    }

    /// <summary>Initializes the database and PKI, then opens the listeners.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken ct = default)
    {
        await app.Services.GetRequiredService<PkiInitializer>().InitializeAsync(ct);
        JobsFeature.ScheduleRecurringJobs(app.Services);
        RenewalFeature.ScheduleRecurringJobs(app.Services);
        await app.StartAsync(ct);
    }
}
