using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>.NET's HttpClient as an EST client: trusts only the service's root, presents an optional client certificate.</summary>
public static class EstClient
{
    /// <summary>An EST client of <paramref name="server"/>'s first instance, or of the instance at <paramref name="estBase"/>.</summary>
    public static HttpClient Create(ServerFixture server, X509Certificate2? clientCertificate = null, Uri? estBase = null)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 c && ChainValidator.Validate(c, server.Pki.Root, server.Pki.IssuingCertificates, DateTimeOffset.UtcNow) == ChainVerdict.Valid,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        };
        return new HttpClient(handler) { BaseAddress = new Uri(estBase ?? server.EstBase, "/.well-known/est/") };
    }

    public static Task<HttpResponseMessage> PostCsrAsync(HttpClient client, string operation, string body, string contentType = "application/pkcs10")
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return client.PostAsync(operation, content);
    }

    public static async Task<X509Certificate2> ReadCertificateAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return Assert.Single(CertsOnlyPkcs7.Decode(Convert.FromBase64String(body)));
    }
}
