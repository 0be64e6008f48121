using IotPki.Identity;

namespace IotPki.Server.Data.Entities;

/// <summary>A device's renewal cycle for its current operational certificate: when the window opens, the slot the
/// server picked inside it, when it was asked and how often, when it last renewed, and where it stands. One row per
/// device, replaced by each new certificate; written only by <c>DeviceLifecycle</c>.</summary>
public sealed class DeviceRenewal
{
    public required DeviceId DeviceId { get; set; }
    public required string CertificateSerial { get; set; }
    public DateTimeOffset NotBefore { get; set; }
    public DateTimeOffset NotAfter { get; set; }
    public DateTimeOffset WindowOpensAt { get; set; }
    /// <summary>When the server asks (deterministic per device and certificate, inside the first half of the window).</summary>
    public DateTimeOffset SlotAt { get; set; }
    public DateTimeOffset AtRiskAt { get; set; }
    public DateTimeOffset? AskedAt { get; set; }
    public int AskCount { get; set; }
    /// <summary>When the current certificate replaced the previous one by a renewal (its certificate row's issue time).</summary>
    public DateTimeOffset? RenewedAt { get; set; }
    public RenewalStatus Status { get; set; }
    /// <summary>The campaign that last moved this device's slot, if any.</summary>
    public long? CampaignId { get; set; }
}
