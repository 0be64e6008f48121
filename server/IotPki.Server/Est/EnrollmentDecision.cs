using IotPki.Identity;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Est;

/// <summary>The outcome of a gate: the device that may enroll, the refusal, or a wait for approval.</summary>
/// <param name="Claimed">On a refusal, the device the certificate names when the gate got that far: the refusal's rows
/// are filed under it, so an operator sees a clone's attempts on the device it impersonates.</param>
/// <param name="ProofOfPossessionRequired">The device's manufacturer requires the CSR to carry this session's tls-unique.</param>
/// <param name="ResendsToSameKey">Refused as already enrolled by this very bootstrap certificate: a CSR for the key already
/// certified gets that certificate again (its first answer was lost) instead of the refusal.</param>
/// <param name="Manufacturer">The device's manufacturer when the gate already read it: its certificate profile needs no
/// second query.</param>
public sealed record EnrollmentDecision(Device? Device, EstRefusal? Refusal, bool AwaitingApproval = false, DeviceId? Claimed = null,
    bool ProofOfPossessionRequired = false, bool ResendsToSameKey = false, Manufacturer? Manufacturer = null)
{
    /// <summary>Allowed; with the manufacturer when the gate read it (a first enrollment), whose setting says whether
    /// proof of possession is required.</summary>
    public static EnrollmentDecision Allow(Device device, Manufacturer? manufacturer = null) =>
        new(device, null, ProofOfPossessionRequired: manufacturer?.RequireProofOfPossession ?? false, Manufacturer: manufacturer);
    public static EnrollmentDecision Refuse(EstRefusal refusal, DeviceId? claimed = null) => new(null, refusal, Claimed: claimed);
    public static EnrollmentDecision AlreadyEnrolled(Device device, EstRefusal refusal, Manufacturer manufacturer) =>
        new(device, refusal, Claimed: device.Id, ProofOfPossessionRequired: manufacturer.RequireProofOfPossession, ResendsToSameKey: true);
    /// <summary>The device waits for an operator's approval: EST answers 202 with Retry-After.</summary>
    public static EnrollmentDecision Wait(Device device) => new(device, null, AwaitingApproval: true);
}
