using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;

namespace IotPki.Server.Broker;

/// <summary>Who is on the other end of an MQTT connection, read from its client certificate: a device (operational
/// certificate) or a back-end service.</summary>
public sealed record BrokerIdentity(CertificateKind Kind, string Name, string Serial)
{
    public const string SessionKey = "iotpki.identity";

    public bool IsDevice => Kind == CertificateKind.Operational;

    public static BrokerIdentity? From(X509Certificate2 certificate, string trustDomain)
    {
        foreach (var uri in SubjectAlternativeNames.Uris(certificate))
        {
            if (SpiffeId.TryParse(uri, out var id) && id!.TrustDomain == trustDomain
                && id.Kind is CertificateKind.Operational or CertificateKind.Service && DeviceId.TryParse(id.Name, out _))
            {
                return new BrokerIdentity(id.Kind, id.Name, certificate.SerialNumber.ToLowerInvariant());
            }
        }
        return null;
    }

    public override string ToString() => $"{(IsDevice ? "device" : "service")}:{Name}";
}
