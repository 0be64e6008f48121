using IotPki.Server.Data.Entities;

namespace IotPki.Server.Est;

/// <summary>The outcome of a gate: the device that may enroll, the refusal, or a wait for approval.</summary>
public sealed record EnrollmentDecision(Device? Device, EstRefusal? Refusal, bool AwaitingApproval = false)
{
    public static EnrollmentDecision Allow(Device device) => new(device, null);
    public static EnrollmentDecision Refuse(EstRefusal refusal) => new(null, refusal);
    /// <summary>The device waits for an operator's approval: EST answers 202 with Retry-After.</summary>
    public static EnrollmentDecision Wait(Device device) => new(device, null, AwaitingApproval: true);
}
