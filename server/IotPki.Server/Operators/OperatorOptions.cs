using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Operators;

public sealed class OperatorOptions
{
    public const string Section = "Operators";

    /// <summary>HTTPS port of the operator API and dashboards (mTLS with operator certificates; 0 picks a free port).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8444;

    public string BindAddress { get; set; } = "0.0.0.0";

    public TimeSpan CertificateLifetime { get; set; } = TimeSpan.FromDays(365);
}
