using System.Net;

namespace IotPki.Agent;

/// <summary>The EST server answered with a refusal (RFC 7807 problem with a stable <c>reason</c>).</summary>
public sealed class EstRefusalException(HttpStatusCode status, string reason, string detail, TimeSpan? retryAfter = null)
    : Exception($"EST refused ({(int)status} {reason}): {detail}")
{
    /// <summary>Reasons after which retrying cannot help: the device or its certificate is revoked or blocked, or a
    /// newer certificate of this device is in use elsewhere (this one is a clone's or a stale copy).</summary>
    private static readonly HashSet<string> Final = ["certificate_revoked", "device_revoked", "device_blocked", "superseded"];

    public HttpStatusCode Status { get; } = status;
    public string Reason { get; } = reason;
    public string Detail { get; } = detail;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>True when the agent must stop instead of retrying.</summary>
    public bool IsFinal => Final.Contains(Reason);
    /// <summary>An operator suspended the device: it waits, asking slowly, until it is reinstated.</summary>
    public bool IsSuspended => Reason == "device_suspended";
    /// <summary>202: the enrollment waits for an operator's approval.</summary>
    public bool IsPending => Status == HttpStatusCode.Accepted;
}

/// <summary>The agent stopped for good (revoked device, refused identity); the message says why.</summary>
public sealed class AgentStoppedException(string message, Exception? inner = null) : Exception(message, inner);
