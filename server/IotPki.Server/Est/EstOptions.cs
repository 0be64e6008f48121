using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Est;

public sealed class EstOptions
{
    public const string Section = "Est";

    /// <summary>HTTPS port of the EST endpoints (0 picks a free port).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8443;

    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest accepted request body (a base64 CSR).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 64 * 1024;

    /// <summary>Retry-After of the 202 answer to a device awaiting approval.</summary>
    [Range(1, 86400)]
    public int RetryAfterSeconds { get; set; } = 60;

    /// <summary>Whether <c>serverkeygen</c> (RFC 7030 §4.4) makes keys for devices that cannot make their own.
    /// The key travels once, inside the mutual-TLS answer, and is never stored or logged here.</summary>
    public bool ServerKeyGen { get; set; } = true;
}
