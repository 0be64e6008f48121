namespace IotPki.Server.Data.Entities;

public static class CertificateStatus
{
    public const string Valid = "valid";
    public const string Revoked = "revoked";
    /// <summary>Past notAfter; set by the expiry sweep.</summary>
    public const string Expired = "expired";
}
