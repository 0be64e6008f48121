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

    /// <summary>The issuing CA that signs new certificates: exactly one issuing record is active. The others are
    /// earlier issuing CAs, kept (CRL, OCSP, chains) until the last certificate they signed expires.</summary>
    public bool Active { get; set; }

    /// <summary>When an earlier issuing CA was retired: its key destroyed, no longer published.</summary>
    public DateTimeOffset? RetiredAt { get; set; }
}
