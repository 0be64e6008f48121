namespace IotPki.Server.Data.Entities;

public static class UnregisteredPolicy
{
    public const string Refuse = "refuse";
    /// <summary>The device waits (EST answers 202 with Retry-After) until an operator approves or rejects it.</summary>
    public const string Pending = "pending";
    public const string AutoApprove = "auto-approve";

    public static bool IsValid(string? value) => value is Refuse or Pending or AutoApprove;
}
