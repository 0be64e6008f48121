using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Identity;

/// <summary>An HTTP handler for the service's mTLS listeners: presents a client certificate (with its key) and trusts
/// the server only if it chains to the given anchors, never to the system store.</summary>
public static class MutualTlsHandler
{
    public static SocketsHttpHandler Create(X509Certificate2? clientCertificate, X509Certificate2Collection anchors)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(anchors);
        policy.ExtraStore.AddRange(anchors);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
                CertificateChainPolicy = policy,
            },
        };
    }

    /// <summary>The anchors of a PEM bundle file.</summary>
    public static X509Certificate2Collection Anchors(string caBundlePath)
    {
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(caBundlePath);
        return anchors;
    }
}
