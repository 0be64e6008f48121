using IotPki.Server.Data.Entities;

namespace IotPki.Server.Est;

/// <summary>The outcome of a gate: the device that may enroll, or the refusal.</summary>
public sealed record EnrollmentDecision(Device? Device, EstRefusal? Refusal)
{
    public static EnrollmentDecision Allow(Device device) => new(device, null);
    public static EnrollmentDecision Refuse(EstRefusal refusal) => new(null, refusal);
}
