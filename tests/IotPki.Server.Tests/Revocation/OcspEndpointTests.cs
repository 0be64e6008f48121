using System.Net;
using System.Net.Http.Headers;
using IotPki.Server.Tests.Infrastructure;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Ocsp;

namespace IotPki.Server.Tests.Revocation;

public sealed class OcspEndpointTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string OcspUrl => new Uri(server.HttpBase, "/ocsp").ToString();

    [Fact]
    public async Task Openssl_ocsp_says_revoked_for_a_revoked_certificate_and_good_for_another()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var revoked = await scenario.EnrollAsync("ocsp-revoked");
        using var good = await scenario.EnrollAsync("ocsp-good");
        await scenario.RevokeAsync(revoked, reason: 1);

        var run = await scenario.ShellAsync($"""
            openssl ocsp -issuer issuing.pem -cert ocsp-revoked.pem -url '{OcspUrl}' -CAfile ca.pem 2>&1
            echo ---
            openssl ocsp -issuer issuing.pem -cert ocsp-good.pem -url '{OcspUrl}' -CAfile ca.pem 2>&1
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var parts = run.Stdout.Split("---");
        Assert.Contains("Response verify OK", parts[0]);
        Assert.Contains("ocsp-revoked.pem: revoked", parts[0]);
        Assert.Contains("Reason: keyCompromise", parts[0]);
        Assert.Contains("Revocation Time:", parts[0]);
        Assert.Contains("Next Update:", parts[0]);
        Assert.DoesNotContain("nonce", parts[0], StringComparison.OrdinalIgnoreCase); // openssl warns when the nonce is not echoed
        Assert.Contains("Response verify OK", parts[1]);
        Assert.Contains("ocsp-good.pem: good", parts[1]);
        Assert.DoesNotContain("nonce", parts[1], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_serial_we_never_issued_and_a_certificate_of_another_CA_are_unknown()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var bootstrap = server.Bootstrap("ocsp-foreign");
        File.WriteAllText(Path.Combine(scenario.Directory, "foreign.pem"), bootstrap.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(scenario.Directory, "manufacturer.pem"), server.DemoManufacturer.Certificate.ExportCertificatePem() + "\n");

        var run = await scenario.ShellAsync($"""
            openssl ocsp -issuer issuing.pem -serial 0x0123456789abcdef0123456789abcdef -url '{OcspUrl}' -CAfile ca.pem 2>&1
            echo ---
            # our issuing CA is not authorized to answer for the manufacturer CA, so openssl rejects the signature
            # (and exits 1); the status is unknown all the same
            openssl ocsp -issuer manufacturer.pem -cert foreign.pem -url '{OcspUrl}' -CAfile ca.pem || true
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var parts = run.Stdout.Split("---");
        Assert.Contains("Response verify OK", parts[0]);
        Assert.Contains("0x0123456789abcdef0123456789abcdef: unknown", parts[0]);
        Assert.Contains("foreign.pem: unknown", parts[1]);
    }

    [Fact]
    public async Task OCSP_over_GET_with_a_url_encoded_base64_request_answers_like_POST()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var revoked = await scenario.EnrollAsync("ocsp-get");
        await scenario.RevokeAsync(revoked, reason: 5);
        var request = await scenario.ShellAsync("openssl ocsp -issuer issuing.pem -cert ocsp-get.pem -no_nonce -reqout req.der");
        Assert.True(request.ExitCode == 0, request.Stderr);
        var encoded = Uri.EscapeDataString(Convert.ToBase64String(File.ReadAllBytes(Path.Combine(scenario.Directory, "req.der"))));

        var run = await scenario.ShellAsync($"""
            curl -sSf -D headers.txt -o resp.der '{OcspUrl}/{encoded}'
            grep -i '^content-type' headers.txt
            openssl ocsp -respin resp.der -issuer issuing.pem -cert ocsp-get.pem -CAfile ca.pem -no_nonce 2>&1
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Contains("application/ocsp-response", run.Stdout);
        Assert.Contains("Response verify OK", run.Stdout);
        Assert.Contains("ocsp-get.pem: revoked", run.Stdout);
        Assert.Contains("Reason: cessationOfOperation", run.Stdout);
    }

    [Fact]
    public async Task A_malformed_OCSP_request_gets_a_malformedRequest_response_and_the_responder_keeps_serving()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var device = await scenario.EnrollAsync("ocsp-after-bad");

        var run = await scenario.ShellAsync($"""
            printf 'this is not DER' | curl -sS -o bad.der -w '{HttpCode}\n' --data-binary @- -H 'Content-Type: application/ocsp-request' '{OcspUrl}'
            openssl ocsp -respin bad.der -resp_text -noverify 2>&1 || true
            curl -sS -o bad-get.der -w '{HttpCode}\n' '{OcspUrl}/not*base64!'
            openssl ocsp -respin bad-get.der -resp_text -noverify 2>&1 || true
            echo ---
            openssl ocsp -issuer issuing.pem -cert ocsp-after-bad.pem -url '{OcspUrl}' -CAfile ca.pem 2>&1
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var parts = run.Stdout.Split("---");
        Assert.True(2 == parts[0].Split('\n').Count(l => l == "200"), run.Stdout);
        Assert.True(2 == CountOf(parts[0], "Responder Error: malformedrequest (1)"), run.Stdout);
        Assert.Contains("ocsp-after-bad.pem: good", parts[1]);
        Assert.Contains("Response verify OK", parts[1]);
    }

    [Fact]
    public async Task A_wrong_content_type_gets_415_and_an_oversized_body_413()
    {
        using var http = new HttpClient();

        using var wrongType = await http.PostAsync(OcspUrl, new ByteArrayContent([0x30, 0x00]) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } });
        using var tooLarge = await http.PostAsync(OcspUrl, new ByteArrayContent(new byte[16 * 1024 + 1]) { Headers = { ContentType = new MediaTypeHeaderValue("application/ocsp-request") } });
        using var empty = await http.PostAsync(OcspUrl, new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("application/ocsp-request") } });

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Equal(OcspResponseStatus.MalformedRequest, new OcspResp(await empty.Content.ReadAsByteArrayAsync()).Status);
    }

    [Fact]
    public async Task OCSP_is_answered_on_the_EST_HTTPS_port_too()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var device = await scenario.EnrollAsync("ocsp-https");
        var request = await scenario.ShellAsync("openssl ocsp -issuer issuing.pem -cert ocsp-https.pem -reqout req.der");
        Assert.True(request.ExitCode == 0, request.Stderr);

        var run = await scenario.ShellAsync($"""
            curl -sSf --cacert ca.pem --data-binary @req.der -H 'Content-Type: application/ocsp-request' -o resp.der '{new Uri(server.EstBase, "/ocsp")}'
            openssl ocsp -reqin req.der -respin resp.der -CAfile ca.pem -resp_text 2>&1
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        Assert.Contains("Cert Status: good", run.Stdout);
        Assert.Contains("Response verify OK", run.Stdout);
    }

    private const string HttpCode = "%{http_code}";

    private static int CountOf(string text, string value) => text.Split(value).Length - 1;
}
