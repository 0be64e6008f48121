using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Est;

/// <summary>A CSR may only ask for the identity its caller already holds (RFC 7030 §4.2.2 for re-enrollment):
/// CN=&lt;device-id&gt;, and if it carries subjectAltNames, only this device's SPIFFE id. A name the CA would not
/// issue (a DNS name, an IP address) is refused rather than silently dropped.</summary>
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
        if (csr.OtherNames > 0)
        {
            return EstRefusal.Forbidden("identity_mismatch",
                $"The CSR asks for {csr.OtherNames} subjectAltName(s) that are not URIs (DNS names, IP addresses): a device certificate holds only {expected}.");
        }
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
