using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

/// <summary>RFC 7030 §3.5 proof of possession: a CSR whose challengePassword holds the TLS session's tls-unique value is
/// checked against the session it arrives on. TLS 1.3 has no tls-unique: a challengePassword there is refused.</summary>
public sealed class TlsUniqueTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("--tls-max 1.2", "403", "tls_unique_mismatch")]
    [InlineData("--tlsv1.3", "400", "tls_unique_unavailable")]
    public async Task Openssl_and_curl_with_a_challengePassword_that_is_not_this_sessions_tls_unique_are_refused(string tls, string status, string reason)
    {
        var id = reason.Replace('_', '-');
        await server.RegisterAsync(id);
        var dir = server.TempDirectory("pop-");
        using (var bootstrap = server.Bootstrap(id))
        {
            TestPki.WritePem(bootstrap, Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
        }
        var run = await ChildProcess.ShellAsync($$"""
            set -e
            printf '[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nCN={{id}}\n[attrs]\nchallengePassword=%s\n' "$(printf anything | base64)" > req.cnf
            openssl ecparam -name prime256v1 -genkey -noout -out k.pem
            openssl req -new -key k.pem -config req.cnf -outform DER | openssl base64 -e > csr.b64
            curl -s {{tls}} -o body.json -w '%{http_code}' --cert boot.pem --key boot.key --cacert '{{server.CaBundlePath}}' \
                -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 '{{new Uri(server.EstBase, "/.well-known/est/simpleenroll")}}'
            """, dir);

        Assert.True(run.Stdout == status, run.Stdout + run.Stderr);
        using var problem = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "body.json")));
        Assert.Equal(reason, problem.RootElement.GetProperty("reason").GetString());
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking().SingleAsync(a => a.DeviceId == DeviceId.Parse(id)));
        Assert.Equal(("refused", reason), (attempt.Outcome, attempt.Reason));
    }

    [Fact]
    public async Task A_client_that_proves_possession_with_this_sessions_tls_unique_enrolls()
    {
        await server.RegisterAsync("pop-good-0001");
        using var bootstrap = server.Bootstrap("pop-good-0001");

        var statusLine = await TlsUniqueEnrollment.EnrollAsync(server, bootstrap, "pop-good-0001");

        Assert.StartsWith("HTTP/1.1 200", statusLine);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"DeviceId\" = 'pop-good-0001'"));
    }
}
