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

    /// <summary>Enrollments (simpleenroll, simplereenroll, serverkeygen) that issue and commit at once; the rest wait
    /// in a queue. The turn is taken after the gate and the CSR checks, so a slow client never holds one.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrentEnrollments { get; set; } = 16;

    /// <summary>Enrollments that wait for one of <see cref="MaxConcurrentEnrollments"/>; past them a device gets 503.</summary>
    [Range(0, 1_000_000)]
    public int EnrollmentQueueLimit { get; set; } = 1_000;

    /// <summary>Least Retry-After of a 503 to a device turned away by a full queue (each answer picks up to twice it).</summary>
    [Range(1, 3600)]
    public int BusyRetryAfterSeconds { get; set; } = 10;

    /// <summary>Whether <c>serverkeygen</c> (RFC 7030 §4.4) makes keys for devices that cannot make their own.
    /// The key travels once, inside the mutual-TLS answer, and is never stored or logged here.</summary>
    public bool ServerKeyGen { get; set; } = true;
}
