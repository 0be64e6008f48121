using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Broker;

/// <summary>Decides in the TLS handshake: a client certificate is required, must chain to our issuing CA, be
/// within validity, be an operational or service certificate (never bootstrap or operator), and not be revoked.
/// A refusal costs no more than the handshake, and is audited.</summary>
public sealed class ClientCertificateGate(PkiState pki, RevokedSet revoked, BrokerAudit audit, TimeProvider clock)
{
    /// <summary>The remote address of the connection being handshaken (set by the listener's connection middleware).</summary>
    public static readonly AsyncLocal<EndPoint?> Remote = new();

    public bool Accept(X509Certificate? presented, SslPolicyErrors errors)
    {
        var source = (Remote.Value as IPEndPoint)?.Address.ToString();
        if (presented is not X509Certificate2 certificate || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            audit.Refused("no_client_certificate", "anonymous", null, source, "a client certificate is required");
            return false;
        }
        // The thumbprint names a refused certificate only: an accepted one costs no hash.
        string Actor() => $"cert:{CertificateIdentifiers.Thumbprint(certificate)}";
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var reason = certificate.NotAfter.ToUniversalTime() < now ? "certificate_expired"
                : certificate.NotBefore.ToUniversalTime() > now ? "certificate_not_yet_valid"
                : "untrusted_certificate";
            audit.Refused(reason, Actor(), null, source, certificate.Subject);
            return false;
        }
        var identity = BrokerIdentity.From(certificate, pki.Issuer.Endpoints.TrustDomain);
        if (identity is null)
        {
            audit.Refused("not_a_device_certificate", Actor(), null, source, $"{certificate.Subject}: neither an operational nor a service certificate");
            return false;
        }
        if (revoked.RefusalOf(identity.Serial) is { } refusal)
        {
            audit.Refused(refusal, identity.ToString(), identity.Device, source, $"serial {identity.Serial}");
            return false;
        }
        if (identity.Device is { } device && revoked.BarredState(device) is { } state)
        {
            audit.Refused("device_" + state.Name(), identity.ToString(), device, source, $"device is {state.Name()}");
            return false;
        }
        return true;
    }
}
