using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Telemetry;

/// <summary>Metrics and traces (section <c>Telemetry</c>). <c>/metrics</c> is always served on the operator port to
/// operators (viewer or admin certificate); <see cref="MetricsPort"/> adds a plain-HTTP listener serving only
/// <c>/metrics</c>, for a Prometheus that scrapes without a client certificate.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>A plain-HTTP port serving <c>/metrics</c> only (on <see cref="MetricsBindAddress"/>); none when unset.</summary>
    [Range(0, 65535)]
    public int? MetricsPort { get; set; }

    public string MetricsBindAddress { get; set; } = "127.0.0.1";

    /// <summary>An OTLP endpoint (http://collector:4317) that receives traces of enrollments and revocations; none when unset.</summary>
    public Uri? OtlpEndpoint { get; set; }
}
