using IotPki.Identity;

namespace IotPki.Server.Data.Entities;

public sealed class Device
{
    public required DeviceId Id { get; set; }
    public int ManufacturerId { get; set; }
    public Manufacturer? Manufacturer { get; set; }
    public required DeviceState State { get; set; }
    /// <summary>SHA-256 of the bootstrap certificate that first enrolled this device.</summary>
    public string? BootstrapThumbprint { get; set; }
    public DateTimeOffset RegisteredAt { get; set; }
    public DateTimeOffset? EnrolledAt { get; set; }
    public DateTimeOffset? LastSeenAt { get; set; }
    public bool Online { get; set; }
    /// <summary>The server instance holding the device's broker session while it is online.</summary>
    public Guid? InstanceId { get; set; }
    /// <summary>Set by an operator: the next <c>simpleenroll</c> with a bootstrap certificate is accepted although the
    /// device is already enrolled (otherwise refused as a clone). Cleared by that enrollment.</summary>
    public bool ReprovisionAllowed { get; set; }
}
