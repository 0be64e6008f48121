namespace IotPki.Server.Data.Entities;

/// <summary>A running server instance, alive while its heartbeat is fresh. Devices name the instance that holds their
/// broker session, so the sessions of an instance that died can be marked offline by the others.</summary>
public sealed class ServerInstance
{
    public Guid Id { get; set; }
    public required string Host { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset HeartbeatAt { get; set; }
}
