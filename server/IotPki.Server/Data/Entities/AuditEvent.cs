using IotPki.Identity;

namespace IotPki.Server.Data.Entities;

/// <summary>One row of the append-only audit log; a database trigger refuses UPDATE and DELETE.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Action { get; set; }
    public required string Actor { get; set; }
    public string? SourceAddress { get; set; }
    public DeviceId? DeviceId { get; set; }
    public string? Detail { get; set; }
}
