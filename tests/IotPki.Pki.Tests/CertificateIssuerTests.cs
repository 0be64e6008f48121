using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class CertificateIssuerTests : IDisposable
{
    private readonly CertificateAuthority _root;
    private readonly CertificateAuthority _issuing;
    private readonly CertificateIssuer _issuer;

    public CertificateIssuerTests()
    {
        var now = DateTimeOffset.UtcNow;
        _root = CertificateAuthority.CreateRoot("Root", TimeSpan.FromDays(100), now);
        _issuing = CertificateAuthority.CreateSubordinate("Issuing", TimeSpan.FromDays(50), now, _root);
        _issuer = new CertificateIssuer(_issuing,
            new PkiEndpoints(new Uri("http://pki.example/crl/issuing.crl"), new Uri("http://pki.example/ocsp"), "fleet.example"), TimeProvider.System);
    }

    [Fact]
    public void An_operational_certificate_carries_the_identity_and_extensions_of_the_design()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var issued = _issuer.Issue(CertificateProfile.Operational(TimeSpan.FromDays(30)), "dev-0042", new PublicKey(key));
        var cert = issued.Certificate;

        Assert.Equal("CN=dev-0042", cert.Subject);
        Assert.Equal(["spiffe://fleet.example/device/dev-0042"], SubjectAlternativeNames.Uris(cert));
        Assert.Equal("1.2.840.10045.4.3.2", cert.SignatureAlgorithm.Value);
        var usage = Assert.IsType<X509KeyUsageExtension>(cert.Extensions["2.5.29.15"]);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, usage.KeyUsages);
        var eku = Assert.IsType<X509EnhancedKeyUsageExtension>(cert.Extensions["2.5.29.37"]);
        Assert.Equal("1.3.6.1.5.5.7.3.2", Assert.Single(eku.EnhancedKeyUsages.Cast<Oid>()).Value);
        var aki = Assert.IsType<X509AuthorityKeyIdentifierExtension>(cert.Extensions["2.5.29.35"]);
        var ski = Assert.IsType<X509SubjectKeyIdentifierExtension>(_issuing.Certificate.Extensions["2.5.29.14"]);
        Assert.Equal(ski.SubjectKeyIdentifier, Convert.ToHexString(aki.KeyIdentifier!.Value.Span));
        Assert.NotNull(cert.Extensions["2.5.29.14"]);
        Assert.NotNull(cert.Extensions["2.5.29.31"]);
        var aia = Assert.IsType<X509AuthorityInformationAccessExtension>(cert.Extensions["1.3.6.1.5.5.7.1.1"]);
        Assert.Equal(["http://pki.example/ocsp"], aia.EnumerateOcspUris());
        Assert.Equal(ChainVerdict.Valid, ChainValidator.Validate(cert, _root.Certificate, [_issuing.Certificate], DateTimeOffset.UtcNow));
        Assert.Equal(16, cert.SerialNumberBytes.Length);
    }

    [Fact]
    public void Short_lived_profiles_of_hours_are_honoured()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var issued = _issuer.Issue(CertificateProfile.Operational(TimeSpan.FromHours(2)), "dev-short", new PublicKey(key));

        var life = issued.NotAfter - issued.NotBefore;
        Assert.InRange(life, TimeSpan.FromHours(2) + CertificateProfile.ClockSkewAllowance - TimeSpan.FromSeconds(2), TimeSpan.FromHours(2) + CertificateProfile.ClockSkewAllowance + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_certificate_never_outlives_its_issuing_CA()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var issued = _issuer.Issue(CertificateProfile.Operational(TimeSpan.FromDays(365)), "dev-long", new PublicKey(key));

        Assert.True(issued.Certificate.NotAfter <= _issuing.Certificate.NotAfter);
    }

    [Fact]
    public void Lifetimes_below_one_minute_are_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CertificateProfile.Operational(TimeSpan.FromSeconds(10)));

    [Fact]
    public void An_expired_certificate_and_a_foreign_one_do_not_validate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = _issuer.Issue(CertificateProfile.Operational(TimeSpan.FromHours(1)), "dev-exp", new PublicKey(key));
        using var stranger = CertificateAuthority.CreateRoot("Stranger", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);

        Assert.Equal(ChainVerdict.Expired, ChainValidator.Validate(issued.Certificate, _root.Certificate, [_issuing.Certificate], DateTimeOffset.UtcNow.AddHours(2)));
        Assert.Equal(ChainVerdict.UntrustedIssuer, ChainValidator.Validate(issued.Certificate, stranger.Certificate, null, DateTimeOffset.UtcNow));
    }

    public void Dispose()
    {
        _issuing.Dispose();
        _root.Dispose();
    }
}
