using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>How the service names a certificate and its keys in rows and logs: lower-case hex.</summary>
public static class CertificateIdentifiers
{
    /// <summary>SHA-256 of the DER certificate.</summary>
    public static string Thumbprint(X509Certificate2 certificate) =>
        certificate.GetCertHashString(HashAlgorithmName.SHA256).ToLowerInvariant();

    /// <summary>The subject key identifier of a CA.</summary>
    public static string? SubjectKeyId(X509Certificate2 ca)
    {
        try
        {
            return (ca.Extensions["2.5.29.14"] as X509SubjectKeyIdentifierExtension)?.SubjectKeyIdentifier?.ToLowerInvariant();
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The authority key identifier of a leaf; one that does not decode (BER, garbage) is none.</summary>
    public static string? AuthorityKeyId(X509Certificate2 leaf)
    {
        try
        {
            return leaf.Extensions["2.5.29.35"] is X509AuthorityKeyIdentifierExtension { KeyIdentifier: { } id }
                ? Convert.ToHexStringLower(id.Span)
                : null;
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            return null;
        }
    }

    /// <summary>The serial number as the service's rows carry it.</summary>
    public static string Serial(X509Certificate2 certificate) => certificate.SerialNumber.ToLowerInvariant();
}
