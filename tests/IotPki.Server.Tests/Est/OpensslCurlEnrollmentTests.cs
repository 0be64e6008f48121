using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

/// <summary>The README's enrollment, with openssl and curl only, against the real server.</summary>
public sealed class OpensslCurlEnrollmentTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_device_enrolls_with_openssl_and_curl_and_the_certificate_verifies_against_cacerts()
    {
        await server.RegisterAsync("curl-0001");
        var dir = server.TempDirectory("iotpki-curl-");
        using var bootstrap = server.Bootstrap("curl-0001");
        TestPki.WritePem(bootstrap, Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
        var est = new Uri(server.EstBase, "/.well-known/est/").ToString();

        var run = await ChildProcess.ShellAsync($"""
            openssl ecparam -name prime256v1 -genkey -noout -out device.key
            openssl req -new -key device.key -subj "/CN=curl-0001" -outform DER | openssl base64 -e > csr.b64
            curl -sSf --cacert '{server.CaBundlePath}' '{est}cacerts' | openssl base64 -d | openssl pkcs7 -inform DER -print_certs > chain.pem
            curl -sSf --cert boot.pem --key boot.key --cacert '{server.CaBundlePath}' --data-binary @csr.b64 \
                 -H 'Content-Type: application/pkcs10' '{est}simpleenroll' | openssl base64 -d | openssl pkcs7 -inform DER -print_certs > device.pem
            openssl verify -CAfile chain.pem device.pem
            openssl x509 -in device.pem -noout -subject -ext subjectAltName,extendedKeyUsage
            openssl x509 -in device.pem -noout -pubkey > cert.pub
            openssl ec -in device.key -pubout 2>/dev/null > key.pub
            cmp cert.pub key.pub && echo same-key
            """, dir);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("device.pem: OK", run.Stdout);
        Assert.Contains("CN=curl-0001", run.Stdout.Replace(" = ", "="));
        Assert.Contains("URI:spiffe://iotpki.local/device/curl-0001", run.Stdout);
        Assert.Contains("TLS Web Client Authentication", run.Stdout);
        Assert.Contains("same-key", run.Stdout);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task Csrattrs_is_base64_DER_that_openssl_parses()
    {
        var run = await ChildProcess.ShellAsync(
            $"curl -sSf -D headers.txt --cacert '{server.CaBundlePath}' '{new Uri(server.EstBase, "/.well-known/est/csrattrs")}' | openssl base64 -d | openssl asn1parse -inform DER; cat headers.txt",
            server.TempDirectory("scratch-"));

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("prime256v1", run.Stdout);
        Assert.Contains("ecdsa-with-SHA256", run.Stdout);
        Assert.Contains("application/csrattrs", run.Stdout);
    }

    [Fact]
    public async Task Curl_without_a_client_certificate_gets_401_with_a_problem_body()
    {
        var run = await ChildProcess.ShellAsync(
            $"echo MIIB | curl -s -o body.json -w '%{{http_code}}' --cacert '{server.CaBundlePath}' --data-binary @- -H 'Content-Type: application/pkcs10' '{new Uri(server.EstBase, "/.well-known/est/simpleenroll")}'; echo; cat body.json",
            server.TempDirectory("scratch-"));

        Assert.StartsWith("401", run.Stdout);
        Assert.Contains("no_client_certificate", run.Stdout);
    }
}
