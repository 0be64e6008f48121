using IotPki.Identity;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Est;

/// <summary>The outcome of a gate: the device that may enroll, the refusal, or a wait for approval.</summary>
/// <param name="Claimed">On a refusal, the device the certificate names when the gate got that far: the refusal's rows
/// are filed under it, so an operator sees a clone's attempts on the device it impersonates.</param>
/// <param name="ProofOfPossessionRequired">The device's manufacturer requires the CSR to carry this session's tls-unique.</param>
public sealed record EnrollmentDecision(Device? Device, EstRefusal? Refusal, bool AwaitingApproval = false, DeviceId? Claimed = null,
    bool ProofOfPossessionRequired = false)
{
    public static EnrollmentDecision Allow(Device device, bool proofOfPossessionRequired = false) =>
        new(device, null, ProofOfPossessionRequired: proofOfPossessionRequired);
    public static EnrollmentDecision Refuse(EstRefusal refusal, DeviceId? claimed = null) => new(null, refusal, Claimed: claimed);
    /// <summary>The device waits for an operator's approval: EST answers 202 with Retry-After.</summary>
    public static EnrollmentDecision Wait(Device device) => new(device, null, AwaitingApproval: true);
}
