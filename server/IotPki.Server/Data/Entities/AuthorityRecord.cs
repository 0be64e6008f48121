namespace IotPki.Server.Data.Entities;

/// <summary>A CA of the service (root, issuing, demo manufacturer), its key encrypted with the CA passphrase.
/// Kept in PostgreSQL so that every server instance on the database signs with the same CA.</summary>
public sealed class AuthorityRecord
{
    public required string Role { get; set; }
    public required string CertificatePem { get; set; }
    public required string EncryptedKeyPem { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
