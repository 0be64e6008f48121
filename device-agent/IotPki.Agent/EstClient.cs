using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using IotPki.Identity;

namespace IotPki.Agent;

/// <summary>RFC 7030 client: <c>cacerts</c>, <c>simpleenroll</c> with the bootstrap certificate, <c>simplereenroll</c>
/// with the current operational certificate, and <c>serverkeygen</c> with either. Trusts only the configured bundle.
/// A server that cannot be reached sends the next request to the next of <paramref name="servers"/>;
/// <paramref name="serverDate"/> hears the <c>Date</c> of every answer: the server's clock, for <see cref="ServerClock"/>.</summary>
public sealed class EstClient(Endpoints servers, TrustBundle trust, Action<DateTimeOffset>? serverDate = null)
{
    public const string SimpleEnroll = "simpleenroll";
    public const string SimpleReenroll = "simplereenroll";
    public const string ServerKeyGen = "serverkeygen";

    /// <summary>No EST answer of ours comes near this; a larger one is refused rather than buffered.</summary>
    private const int MaxAnswerBytes = 1024 * 1024;

    public async Task<List<X509Certificate2>> GetCaCertsAsync(CancellationToken ct)
    {
        using var http = CreateHttp(null);
        using var response = await SendAsync(http, "cacerts", null, ct).ConfigureAwait(false);
        return await ReadCertificatesAsync(response, ct).ConfigureAwait(false);
    }

    public Task<X509Certificate2> SimpleEnrollAsync(X509Certificate2 bootstrap, byte[] csrDer, CancellationToken ct) =>
        PostCsrAsync(SimpleEnroll, bootstrap, csrDer, ct);

    public Task<X509Certificate2> SimpleReenrollAsync(X509Certificate2 current, byte[] csrDer, CancellationToken ct) =>
        PostCsrAsync(SimpleReenroll, current, csrDer, ct);

    /// <summary>RFC 7030 §4.4: the server makes the key; the answer carries it (PKCS#8) and its certificate.
    /// <paramref name="placeholderCsrDer"/> only names the device: the server ignores its key and signature.</summary>
    public async Task<(ECDsa Key, X509Certificate2 Certificate)> ServerKeyGenAsync(X509Certificate2 clientCertificate, byte[] placeholderCsrDer,
        CancellationToken ct)
    {
        using var http = CreateHttp(clientCertificate);
        using var response = await SendAsync(http, ServerKeyGen, placeholderCsrDer, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Refusal(response, await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        }
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        try
        {
            return ServerKeyGenAnswer.Read(response.Content.Headers.ContentType, body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(body);
        }
    }

    private async Task<X509Certificate2> PostCsrAsync(string operation, X509Certificate2 clientCertificate, byte[] csrDer, CancellationToken ct)
    {
        using var http = CreateHttp(clientCertificate);
        using var response = await SendAsync(http, operation, csrDer, ct).ConfigureAwait(false);
        var certificates = await ReadCertificatesAsync(response, ct).ConfigureAwait(false);
        if (certificates.Count != 1)
        {
            throw new FormatException($"The {operation} answer holds {certificates.Count} certificates, not one.");
        }
        return certificates[0];
    }

    /// <summary>GET <paramref name="operation"/>, or POST the CSR to it; the server's clock is read from the answer.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpClient http, string operation, byte[]? csrDer, CancellationToken ct)
    {
        var server = servers.Current;
        var uri = new Uri(NormalizeBase(server), operation);
        HttpResponseMessage response;
        try
        {
            if (csrDer is null)
            {
                response = await http.GetAsync(uri, ct).ConfigureAwait(false);
            }
            else
            {
                using var content = new StringContent(Convert.ToBase64String(csrDer, Base64FormattingOptions.InsertLineBreaks), Encoding.ASCII);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/pkcs10");
                content.Headers.TryAddWithoutValidation("Content-Transfer-Encoding", "base64");
                response = await http.PostAsync(uri, content, ct).ConfigureAwait(false);
            }
        }
        catch (HttpRequestException) when (servers.Count > 1)
        {
            servers.Next(server);
            throw;
        }
        if (response.Headers.Date is { } date)
        {
            serverDate?.Invoke(date);
        }
        return response;
    }

    private static async Task<List<X509Certificate2>> ReadCertificatesAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw Refusal(response, body);
        }
        return CertsOnlyPkcs7.DecodeBase64(body);
    }

    private static EstRefusalException Refusal(HttpResponseMessage response, string body)
    {
        var reason = response.StatusCode == HttpStatusCode.Accepted ? "pending_approval" : "http_" + (int)response.StatusCode;
        var detail = response.ReasonPhrase ?? "";
        if (response.Content.Headers.ContentType?.MediaType is { } media && media.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String)
                {
                    reason = r.GetString()!;
                }
                if (json.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String)
                {
                    detail = d.GetString()!;
                }
            }
            catch (JsonException)
            {
                // A JSON-labelled body that is not JSON: the status code and reason phrase above still say what happened.
            }
        }
        TimeSpan? retryAfter = response.Headers.RetryAfter?.Delta
            ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return new EstRefusalException(response.StatusCode, reason, detail, retryAfter);
    }

    private HttpClient CreateHttp(X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // The handshake builds the chain against the trust bundle alone: no errors means the name matches and
                // the server's certificate chains to a root of the bundle.
                CertificateChainPolicy = trust.ChainPolicy(),
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => certificate is not null && errors == SslPolicyErrors.None,
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60), MaxResponseContentBufferSize = MaxAnswerBytes };
    }

    private static Uri NormalizeBase(Uri estBase)
    {
        var text = estBase.ToString();
        if (!text.Contains("/.well-known/est", StringComparison.Ordinal))
        {
            text = text.TrimEnd('/') + "/.well-known/est";
        }
        return new Uri(text.TrimEnd('/') + "/");
    }
}
