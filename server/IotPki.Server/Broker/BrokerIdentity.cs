using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Broker;

/// <summary>Who is on the other end of an MQTT connection, read once from its client certificate in the TLS handshake
/// and carried on the session: a device (operational certificate, with its typed <see cref="Device"/> id) or a
/// back-end service.</summary>
public sealed record BrokerIdentity(SpiffeId Id, DeviceId? Device, string Serial)
{
    public const string SessionKey = "iotpki.identity";

    // The handshake's certificate object is the one MQTTnet hands to CONNECT validation: remembered, not parsed again.
    private static readonly ConditionalWeakTable<X509Certificate2, BrokerIdentity> Parsed = [];

    public string Name => Id.Name;

    public bool IsDevice => Device is not null;

    /// <summary>The identity of an operational or service certificate of this trust domain, or null.</summary>
    public static BrokerIdentity? From(X509Certificate2 certificate, string trustDomain)
    {
        if (Parsed.TryGetValue(certificate, out var known))
        {
            return known.Id.TrustDomain == trustDomain ? known : null;
        }
        if (SpiffeId.InCertificate(certificate, trustDomain, CertificateKind.Operational, CertificateKind.Service) is not { } id
            || !DeviceId.TryParse(id.Name, out var name))
        {
            return null;
        }
        var identity = new BrokerIdentity(id, id.Kind == CertificateKind.Operational ? name : null, CertificateIdentifiers.Serial(certificate));
        Parsed.AddOrUpdate(certificate, identity);
        return identity;
    }

    /// <summary>The server itself, publishing commands: a service.</summary>
    public static BrokerIdentity Service(string trustDomain, string name) =>
        new(new SpiffeId(trustDomain, CertificateKind.Service, name), null, "");

    public override string ToString() => Id.Actor;
}
