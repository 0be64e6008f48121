namespace IotPki.Server.Data.Entities;

public static class CertificateStatus
{
    public const string Valid = "valid";
    public const string Revoked = "revoked";
    /// <summary>Past notAfter; set by the expiry sweep.</summary>
    public const string Expired = "expired";
    /// <summary>Replaced by a newer certificate of the same device that has connected to the broker: it may neither
    /// renew nor connect (a second holder is a clone). Not revoked: it stays off the CRL.</summary>
    public const string Superseded = "superseded";
}
