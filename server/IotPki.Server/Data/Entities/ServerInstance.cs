namespace IotPki.Server.Data.Entities;

/// <summary>A running server instance, alive while its heartbeat is fresh. Devices name the instance that holds their
/// broker session, so the sessions of an instance that died can be marked offline by the others.</summary>
public sealed class ServerInstance
{
    public Guid Id { get; set; }
    public required string Host { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }

    /// <summary>The role of the issuing CA the instance signs new certificates with, once its CAs are loaded: a rollover
    /// waits until every live instance names the new one.</summary>
    public string? IssuingCa { get; set; }
}
