namespace IotPki.Pki;

/// <summary>A revoked certificate as the CRL and OCSP see it: serial (lower-case hex), when, and the RFC 5280
/// CRLReason code if one was given.</summary>
public sealed record RevokedCertificate(string SerialHex, DateTimeOffset RevokedAt, int? Reason)
{
    /// <summary>The reason as it may be written into a CRL entry or an OCSP answer: RFC 5280 codes 1–6 and 9–10.
    /// <c>unspecified</c> (0) is written by leaving the reason out (RFC 5280 §5.3.1), <c>removeFromCRL</c> (8) is only
    /// for delta CRLs, 7 is unassigned; those and anything else are left out.</summary>
    public int? EncodableReason => Reason is >= 1 and <= 6 or 9 or 10 ? Reason : null;
}
