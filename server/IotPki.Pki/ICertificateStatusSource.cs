namespace IotPki.Pki;

/// <summary>What the OCSP responder needs from the certificate store: which of these serials we issued, and
/// which of those are revoked.</summary>
public interface ICertificateStatusSource
{
    /// <param name="serialsHex">Serials in lower-case hex.</param>
    /// <returns>One entry per serial the issuing CA signed; serials not returned are unknown.</returns>
    Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct);
}

/// <summary>A certificate the issuing CA signed: good when <see cref="Revocation"/> is null.</summary>
public sealed record KnownCertificate(string SerialHex, RevokedCertificate? Revocation);
