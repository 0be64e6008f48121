using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Admin;

/// <summary>Where the operator API is and who we are to it: URL, operator certificate and key, CA bundle.</summary>
public sealed record ApiConnection(Uri BaseUrl, string CertificatePath, string KeyPath, string CaBundlePath)
{
    public HttpClient CreateClient()
    {
        foreach (var path in new[] { CertificatePath, KeyPath, CaBundlePath })
        {
            if (!File.Exists(path))
            {
                throw new AdminException($"{path} does not exist.");
            }
        }
        var certificate = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(CaBundlePath);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(anchors);
        policy.ExtraStore.AddRange(anchors);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
                CertificateChainPolicy = policy,
            },
        };
        return new HttpClient(handler) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }
}

/// <summary>A failure to report as one line on stderr.</summary>
public sealed class AdminException(string message) : Exception(message);
