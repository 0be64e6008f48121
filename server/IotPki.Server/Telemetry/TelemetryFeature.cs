using IotPki.Server.Http;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace IotPki.Server.Telemetry;

/// <summary>Prometheus metrics at <c>/metrics</c> (OpenTelemetry): the features' own meters (<c>IotPki.*</c>), ASP.NET
/// Core's request durations by route, Kestrel's connections and Npgsql's connection pool. Traces of enrollments and
/// revocations go to an OTLP collector when one is configured.</summary>
public static class TelemetryFeature
{
    public const string MetricsPath = "/metrics";
    public const string MetricsListener = "metrics";

    /// <summary>The activity sources traced; each feature owns its source (<c>IotPki.Est</c>, <c>IotPki.Devices</c>, ...).</summary>
    public const string TracedSources = "IotPki.*";

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("iotpki-server"))
            .WithMetrics(m => m
                .AddMeter("IotPki.*", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Npgsql")
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        if (options.OtlpEndpoint is { } otlp)
        {
            telemetry.WithTracing(t => t
                .AddSource(TracedSources, "Microsoft.AspNetCore")
                .AddOtlpExporter(o => o.Endpoint = otlp));
        }
        return builder;
    }

    /// <summary>The optional plain-HTTP metrics listener.</summary>
    public static void ListenForMetrics(this KestrelServerOptions kestrel, IConfiguration configuration, ListenerEndpoints listeners)
    {
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (options.MetricsPort is not { } port)
        {
            return;
        }
        kestrel.Listen(TlsListener.ParseAddress(options.MetricsBindAddress), port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.MarkPurpose(MetricsListener);
            listeners.Register(MetricsListener, listen);
        });
    }

    /// <summary><c>/metrics</c> for operators on the operator listener and for anyone on the metrics listener; the
    /// metrics listener serves nothing else, and no other listener serves <c>/metrics</c>.</summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        app.UseWhen(http => TlsListener.PurposeOf(http) == MetricsListener || http.Request.Path.StartsWithSegments(MetricsPath),
            branch => branch.Use(async (http, next) =>
            {
                var purpose = TlsListener.PurposeOf(http);
                if (purpose == MetricsListener)
                {
                    if (http.Request.Path.StartsWithSegments(MetricsPath))
                    {
                        await next(http);
                        return;
                    }
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                if (await OperatorReaderGate.RefusedAsync(http))
                {
                    return;
                }
                await next(http);
            }));
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
