using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.FirmwareSim;

/// <summary>An HTTP client for EST as a device: presents its bootstrap certificate, trusts only the service's CA bundle.</summary>
public static class EstHttpClient
{
    public static HttpClient Create(X509Certificate2 bootstrap, X509Certificate2Collection anchors)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(anchors);
        policy.ExtraStore.AddRange(anchors);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [bootstrap],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => bootstrap,
                CertificateChainPolicy = policy,
            },
        };
        return new HttpClient(handler);
    }
}
