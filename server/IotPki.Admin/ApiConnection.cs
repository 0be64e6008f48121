using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;

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
        var handler = MutualTlsHandler.Create(certificate, MutualTlsHandler.Anchors(CaBundlePath));
        return new HttpClient(handler) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }
}

/// <summary>A failure to report as one line on stderr.</summary>
public sealed class AdminException(string message) : Exception(message);
