using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Identity;

namespace IotPki.FirmwareSim;

/// <summary>An HTTP client for EST as a device: presents its bootstrap certificate, trusts only the service's CA bundle.</summary>
public static class EstHttpClient
{
    public static HttpClient Create(X509Certificate2 bootstrap, X509Certificate2Collection anchors)
    {
        var handler = MutualTlsHandler.Create(bootstrap, anchors);
        return new HttpClient(handler);
    }

    /// <summary>A device's CSR for its new key, base64 as EST wants it.</summary>
    public static string CsrBase64(string deviceId, ECDsa key) =>
        Convert.ToBase64String(new CertificateRequest($"CN={deviceId}", key, HashAlgorithmName.SHA256).CreateSigningRequest());

    /// <summary><c>simpleenroll</c>; the certificates of the answer, or an HttpRequestException with the server's words.</summary>
    public static async Task<List<X509Certificate2>> SimpleEnrollAsync(HttpClient client, Uri estBase, string csrBase64, CancellationToken ct,
        string operation = "simpleenroll")
    {
        using var content = new StringContent(csrBase64, Encoding.ASCII);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/pkcs10");
        using var response = await client.PostAsync(new Uri(estBase, "/.well-known/est/" + operation), content, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode}: {body}");
        }
        return CertsOnlyPkcs7.DecodeBase64(body);
    }
}
