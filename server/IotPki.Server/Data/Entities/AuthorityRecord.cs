namespace IotPki.Server.Data.Entities;

/// <summary>A CA of the service (root, issuing, demo manufacturer) and where its key is (see <c>CaKeyStores</c>).
/// Kept in PostgreSQL so that every server instance on the database signs with the same CA.</summary>
public sealed class AuthorityRecord
{
    public required string Role { get; set; }
    public required string CertificatePem { get; set; }
    /// <summary>The key's encrypted PKCS#8 PEM (database store), its <c>pkcs11:</c> URI, or <c>file:</c> and the path of
    /// an offline key file. Never a key in clear.</summary>
    public required string KeyReference { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
