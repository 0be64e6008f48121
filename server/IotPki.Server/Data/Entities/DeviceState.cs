namespace IotPki.Server.Data.Entities;

public static class DeviceState
{
    /// <summary>Serial registered by the manufacturer; no operational certificate yet.</summary>
    public const string Registered = "registered";
    /// <summary>Presented an unregistered serial of a manufacturer whose policy is "pending": waits for an operator.</summary>
    public const string Pending = "pending";
    /// <summary>Holds an operational certificate.</summary>
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Revoked = "revoked";
    /// <summary>Refused by an operator before enrollment; its bootstrap certificate cannot enroll.</summary>
    public const string Blocked = "blocked";
}
