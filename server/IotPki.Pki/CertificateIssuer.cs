using System.Security.Cryptography;
using IotPki.Identity;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

/// <summary>Signs end-entity certificates with the issuing CA: operational (devices), operator, service and server TLS.</summary>
public sealed class CertificateIssuer(CertificateAuthority issuingCa, PkiEndpoints endpoints, TimeProvider clock)
{
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    private readonly X509Extension _authorityKeyId =
        X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuingCa.Certificate, true, false);
    private readonly X509Extension _crlDistributionPoint =
        CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([endpoints.CrlDistributionPoint.ToString()]);
    private readonly X509Extension _authorityInformationAccess =
        new X509AuthorityInformationAccessExtension([endpoints.OcspResponder.ToString()], null);
    private readonly X509SignatureGenerator _signer = X509SignatureGenerator.CreateForECDsa(issuingCa.Key);

    public CertificateAuthority IssuingCa => issuingCa;
    public PkiEndpoints Endpoints => endpoints;

    /// <summary>An operational, operator or service certificate: subject CN=name (and OU=role for operators),
    /// SAN spiffe URI, clientAuth.</summary>
    public IssuedCertificate Issue(CertificateProfile profile, string name, PublicKey publicKey, string? organizationalUnit = null)
    {
        if (profile.Kind == CertificateKind.ServerTls)
        {
            throw new ArgumentException("Server certificates are issued with IssueServerTls.", nameof(profile));
        }
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new SpiffeId(endpoints.TrustDomain, profile.Kind, name).ToUri());
        var request = NewRequest(name, publicKey, san, ClientAuth, organizationalUnit);
        return Sign(request, profile, name);
    }

    /// <summary>The TLS certificate of the service's own HTTPS and MQTT listeners.</summary>
    public IssuedCertificate IssueServerTls(PublicKey publicKey, IEnumerable<string> dnsNames, IEnumerable<System.Net.IPAddress> addresses, TimeSpan lifetime)
    {
        var san = new SubjectAlternativeNameBuilder();
        var names = dnsNames.ToList();
        foreach (var dns in names)
        {
            san.AddDnsName(dns);
        }
        foreach (var ip in addresses)
        {
            san.AddIpAddress(ip);
        }
        var request = NewRequest(names.FirstOrDefault() ?? "iotpki-server", publicKey, san, ServerAuth);
        return Sign(request, CertificateProfile.Create(CertificateKind.ServerTls, lifetime), names.FirstOrDefault() ?? "server");
    }

    private CertificateRequest NewRequest(string commonName, PublicKey publicKey, SubjectAlternativeNameBuilder san, Oid usage, string? organizationalUnit = null)
    {
        var subjectBuilder = new X500DistinguishedNameBuilder();
        subjectBuilder.AddCommonName(commonName);
        if (organizationalUnit is not null)
        {
            subjectBuilder.AddOrganizationalUnitName(organizationalUnit);
        }
        var subject = subjectBuilder.Build();
        var request = new CertificateRequest(subject, publicKey, HashAlgorithmName.SHA256);
        var extensions = request.CertificateExtensions;
        extensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var keyUsage = publicKey.Oid.Value == "1.2.840.113549.1.1.1"
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature;
        extensions.Add(new X509KeyUsageExtension(keyUsage, true));
        extensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        extensions.Add(new X509SubjectKeyIdentifierExtension(publicKey, false));
        extensions.Add(_authorityKeyId);
        extensions.Add(san.Build(false));
        extensions.Add(_crlDistributionPoint);
        extensions.Add(_authorityInformationAccess);
        return request;
    }

    private IssuedCertificate Sign(CertificateRequest request, CertificateProfile profile, string name)
    {
        var now = clock.GetUtcNow();
        var notBefore = now - CertificateProfile.ClockSkewAllowance;
        var notAfter = CertificateAuthority.Min(now + profile.Lifetime, issuingCa.Certificate.NotAfter);
        var serial = SerialNumber.NewSerial();
        var certificate = request.Create(issuingCa.Subject, _signer, notBefore, notAfter, serial);
        CaSignatures.Signed("certificate");
        return new IssuedCertificate(certificate, SerialNumber.ToHex(serial), profile.Kind, name);
    }
}
