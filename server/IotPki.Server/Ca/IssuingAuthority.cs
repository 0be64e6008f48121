using IotPki.Pki;

namespace IotPki.Server.Ca;

/// <summary>One issuing CA of the service with its key loaded: the active one signs new certificates; an earlier one
/// (after a rollover) still signs its CRL and OCSP answers until the last certificate it issued expires.</summary>
/// <param name="Name">Its role in the authorities table, also the name of its CRL: <c>/crl/{Name}.crl</c>.</param>
public sealed record IssuingAuthority(string Name, CertificateIssuer Issuer, bool Active)
{
    public CertificateAuthority Ca => Issuer.IssuingCa;

    /// <summary>Its subject key identifier, as the certificates table records each certificate's issuer.</summary>
    public string KeyId { get; } = CertificateIdentifiers.SubjectKeyId(Issuer.IssuingCa.Certificate) ?? "";

    /// <summary>Whether certificate rows with no recorded issuer are this CA's: the first issuing CA, from before rollover.</summary>
    public bool OwnsUnrecordedRows => AuthorityRole.OwnsUnrecordedCertificates(Name);
}
