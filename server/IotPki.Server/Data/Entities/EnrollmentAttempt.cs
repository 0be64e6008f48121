using IotPki.Identity;

namespace IotPki.Server.Data.Entities;

public sealed class EnrollmentAttempt
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Operation { get; set; }
    public DeviceId? DeviceId { get; set; }
    public string? ClientSubject { get; set; }
    public string? ClientThumbprint { get; set; }
    public string? SourceAddress { get; set; }
    public required string Outcome { get; set; }
    public string? Reason { get; set; }
    public string? IssuedSerial { get; set; }
}
