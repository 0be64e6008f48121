using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Est;

/// <summary>A CSR may only ask for the identity its caller already holds: CN=&lt;device-id&gt;, and if it carries
/// URI names, only this device's SPIFFE id.</summary>
public static class CsrIdentityCheck
{
    public static EstRefusal? Check(SigningRequest csr, DeviceId deviceId, string trustDomain)
    {
        if (csr.CommonName != deviceId.Value)
        {
            return EstRefusal.Forbidden("identity_mismatch",
                $"The CSR subject names '{csr.CommonName ?? "(no CN)"}' but the client certificate belongs to device '{deviceId}'.");
        }
        var expected = new SpiffeId(trustDomain, CertificateKind.Operational, deviceId.Value).ToString();
        foreach (var uri in csr.UriNames)
        {
            if (uri != expected)
            {
                return EstRefusal.Forbidden("identity_mismatch", $"The CSR asks for the name '{uri}', which is not this device's ({expected}).");
            }
        }
        return null;
    }
}
