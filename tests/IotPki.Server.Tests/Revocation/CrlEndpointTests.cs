using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using IotPki.Server.Http;
using IotPki.Server.Tests.Infrastructure;
using Org.BouncyCastle.X509;

namespace IotPki.Server.Tests.Revocation;

public sealed partial class CrlEndpointTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string CrlUrl => new Uri(server.HttpBase, "/crl/issuing.crl").ToString();

    [Fact]
    public async Task Openssl_reads_the_CRL_verifies_its_signature_and_refuses_the_revoked_certificate_but_not_another()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        using var revoked = await scenario.EnrollAsync("crl-revoked");
        using var good = await scenario.EnrollAsync("crl-good");
        await scenario.RevokeAsync(revoked, reason: 1);

        var run = await scenario.ShellAsync($"""
            curl -sSf -D headers.txt -o issuing.crl '{CrlUrl}'
            grep -i '^content-type' headers.txt
            openssl crl -inform DER -in issuing.crl -noout -text
            openssl crl -inform DER -in issuing.crl -noout -CAfile issuing.pem -verify 2>&1
            openssl crl -inform DER -in issuing.crl -out crl.pem
            openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem crl-good.pem
            if openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem crl-revoked.pem > revoked.txt 2>&1; then echo REVOKED-PASSED; fi
            cat revoked.txt
            """);

        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);
        var output = run.Stdout;
        Assert.Contains("application/pkix-crl", output);
        Assert.Contains("verify OK", output);
        Assert.Contains("crl-good.pem: OK", output);
        Assert.DoesNotContain("REVOKED-PASSED", output);
        Assert.Contains("certificate revoked", output);
        Assert.Contains($"Serial Number: {revoked.SerialNumber}", output);
        Assert.DoesNotContain(good.SerialNumber, output);
        Assert.Contains("Key Compromise", output);
        Assert.Contains("ecdsa-with-SHA256", output);
        Assert.Contains("X509v3 CRL Number", output);
        Assert.Contains("X509v3 Authority Key Identifier", output);
        var lastUpdate = OpensslTime(output, "Last Update");
        var nextUpdate = OpensslTime(output, "Next Update");
        Assert.Equal(TimeSpan.FromHours(24), nextUpdate - lastUpdate);
        Assert.InRange(lastUpdate, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task The_CRL_is_rebuilt_after_a_new_revocation_and_served_from_memory_otherwise()
    {
        using var scenario = new RevocationScenario(server);
        using var http = new HttpClient();
        using var device = await scenario.EnrollAsync("crl-later");
        var before = await http.GetByteArrayAsync(CrlUrl);
        var again = await http.GetByteArrayAsync(CrlUrl);
        Assert.Equal(before, again); // nothing changed: the same CRL

        await scenario.RevokeAsync(device, reason: 4);
        var after = await http.GetByteArrayAsync(CrlUrl);

        var oldCrl = new X509CrlParser().ReadCrl(before);
        var newCrl = new X509CrlParser().ReadCrl(after);
        var serial = new Org.BouncyCastle.Math.BigInteger(RevocationScenario.SerialHex(device), 16);
        Assert.Null(oldCrl.GetRevokedCertificate(serial));
        Assert.NotNull(newCrl.GetRevokedCertificate(serial));
        Assert.True(CrlNumber(newCrl) > CrlNumber(oldCrl));
        newCrl.Verify(new X509CertificateParser().ReadCertificate(server.Pki.Issuing.RawData).GetPublicKey());
    }

    [Fact]
    public async Task Two_instances_on_one_database_serve_the_same_revocations_and_OCSP_agrees()
    {
        using var scenario = new RevocationScenario(server);
        scenario.WriteCaFiles();
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var secondBase = second.Services.GetRequiredService<IotPki.Server.Http.ListenerEndpoints>().Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");
        using var http = new HttpClient();
        using var device = await scenario.EnrollAsync("crl-two-instances");
        var serial = new Org.BouncyCastle.Math.BigInteger(RevocationScenario.SerialHex(device), 16);
        Assert.Null(new X509CrlParser().ReadCrl(await http.GetByteArrayAsync(new Uri(secondBase, "/crl/issuing.crl"))).GetRevokedCertificate(serial));

        await scenario.RevokeAsync(device); // as the first instance's revocation would

        foreach (var instance in new[] { server.HttpBase, secondBase })
        {
            var crl = new X509CrlParser().ReadCrl(await http.GetByteArrayAsync(new Uri(instance, "/crl/issuing.crl")));
            Assert.NotNull(crl.GetRevokedCertificate(serial));
        }
        var run = await scenario.ShellAsync($"openssl ocsp -issuer issuing.pem -cert crl-two-instances.pem -url '{new Uri(secondBase, "/ocsp")}' -CAfile ca.pem 2>&1");
        Assert.True(run.ExitCode == 0, run.Stdout);
        Assert.Contains("crl-two-instances.pem: revoked", run.Stdout);
        await second.StopAsync();
    }

    [Fact]
    public async Task An_expired_revoked_certificate_is_left_off()
    {
        using var scenario = new RevocationScenario(server);
        using var device = await scenario.EnrollAsync("crl-expired");
        await scenario.RevokeAsync(device);
        await server.Database.ExecuteAsync("UPDATE certificates SET \"NotAfter\" = now() - interval '1 day' WHERE \"Serial\" = $1",
            RevocationScenario.SerialHex(device));
        // The expiry alone does not change the set of revoked certificates; a new revocation does.
        using var trigger = await scenario.EnrollAsync("crl-trigger");
        await scenario.RevokeAsync(trigger);

        using var http = new HttpClient();
        var crl = new X509CrlParser().ReadCrl(await http.GetByteArrayAsync(CrlUrl));

        Assert.Null(crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(RevocationScenario.SerialHex(device), 16)));
        Assert.NotNull(crl.GetRevokedCertificate(new Org.BouncyCastle.Math.BigInteger(RevocationScenario.SerialHex(trigger), 16)));
    }

    [Fact]
    public async Task The_CRL_is_served_on_the_EST_HTTPS_port_too()
    {
        using var scenario = new RevocationScenario(server);

        var run = await scenario.ShellAsync($"""
            curl -sSf --cacert '{server.CaBundlePath}' -o https.crl '{new Uri(server.EstBase, "/crl/issuing.crl")}'
            openssl crl -inform DER -in https.crl -noout -issuer
            """);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains(server.Pki.Issuing.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false), run.Stdout);
        Assert.Equal("https", server.EstBase.Scheme);
    }

    [Fact]
    public async Task The_plain_HTTP_listener_serves_nothing_but_CRL_and_OCSP()
    {
        using var http = new HttpClient { BaseAddress = server.HttpBase };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/.well-known/est/cacerts")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/.well-known/est/simpleenroll", new StringContent("MIIB"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/devices")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/crl/issuing.crl")).StatusCode);
        Assert.Equal("http", server.HttpBase.Scheme);
        Assert.NotEqual(server.EstBase.Port, server.HttpBase.Port);
    }

    private static long CrlNumber(X509Crl crl) =>
        Org.BouncyCastle.Asn1.DerInteger.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(
            crl.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.CrlNumber))).Value.LongValueExact;

    private static DateTime OpensslTime(string output, string label)
    {
        var match = Regex.Match(output, $@"{label}: (\w+ +\d+ \d\d:\d\d:\d\d \d{{4}}) GMT");
        Assert.True(match.Success, $"no {label} in {output}");
        var text = Regex.Replace(match.Groups[1].Value, " +", " ");
        return DateTime.ParseExact(text, "MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }
}
