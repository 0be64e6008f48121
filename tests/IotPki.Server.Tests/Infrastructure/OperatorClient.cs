using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Operators;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>An HTTP client of the operator API, optionally holding a client certificate.</summary>
public static class OperatorClient
{
    public static async Task<X509Certificate2> IssueAsync(ServerFixture server, string name, string role)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var kind = role == OperatorRole.Service ? CertificateKind.Service : CertificateKind.Operator;
        var issued = await scope.ServiceProvider.GetRequiredService<OperatorCertificates>()
            .IssueAsync(kind, name, kind == CertificateKind.Operator ? role : null, "pw", "test", CancellationToken.None);
        return X509Certificate2.CreateFromPem(issued.CertificatePem, issued.KeyPem);
    }

    public static HttpClient Create(ServerFixture server, X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, c, _, _) =>
                    c is X509Certificate2 cert && ChainValidator.Validate(cert, server.Pki.Root, [server.Pki.Issuing], DateTimeOffset.UtcNow) == ChainVerdict.Valid,
                ClientCertificates = certificate is null ? null : [certificate],
                LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate,
            },
        };
        return new HttpClient(handler) { BaseAddress = server.OperatorBase };
    }

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, object? body = null) =>
        client.PostAsJsonAsync(path, body ?? new { });
}
