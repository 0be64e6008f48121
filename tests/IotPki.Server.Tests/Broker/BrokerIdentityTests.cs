using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Server.Broker;

namespace IotPki.Server.Tests.Broker;

/// <summary>The broker reads who a client is from its certificate once: in the TLS handshake. CONNECT validation gets
/// the same identity for the same certificate object without parsing it again.</summary>
public class BrokerIdentityTests
{
    private const string TrustDomain = "iotpki.local";

    [Fact]
    public void An_operational_certificate_is_a_device_with_its_typed_id_and_is_read_once()
    {
        using var certificate = Leaf(CertificateKind.Operational, "dev-0042");

        var first = BrokerIdentity.From(certificate, TrustDomain);
        var second = BrokerIdentity.From(certificate, TrustDomain);

        Assert.NotNull(first);
        Assert.Same(first, second);
        Assert.Equal(DeviceId.Parse("dev-0042"), first.Device);
        Assert.Equal("device:dev-0042", first.ToString());
    }

    [Fact]
    public void A_service_certificate_is_no_device_and_another_trust_domain_is_nobody()
    {
        using var service = Leaf(CertificateKind.Service, "telemetry");
        using var foreign = Leaf(CertificateKind.Operational, "dev-0042", "other.example");

        Assert.Null(BrokerIdentity.From(service, TrustDomain)!.Device);
        Assert.Equal("service:telemetry", BrokerIdentity.From(service, TrustDomain)!.ToString());
        Assert.Null(BrokerIdentity.From(foreign, TrustDomain));
        Assert.Null(BrokerIdentity.From(foreign, TrustDomain));
    }

    private static X509Certificate2 Leaf(CertificateKind kind, string name, string trustDomain = TrustDomain)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new SpiffeId(trustDomain, kind, name).ToUri());
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
    }
}
