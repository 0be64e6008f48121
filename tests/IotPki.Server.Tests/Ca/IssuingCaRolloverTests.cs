using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary><c>ca rollover</c> on a running pair of instances: new certificates come from the new issuing CA, while
/// every certificate of the old one keeps working (EST re-enrollment, the broker, the operator API) and keeps its own
/// CRL and OCSP answers.</summary>
public sealed class IssuingCaRolloverTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task After_a_rollover_both_chains_are_accepted_and_each_CA_answers_for_its_own_certificates()
    {
        using var stays = await DeviceIdentity.EnrollAsync(server, "roll-stays-01");
        using var moves = await DeviceIdentity.EnrollAsync(server, "roll-moves-01");
        using var oldAdmin = await OperatorClient.IssueAsync(server, "roll-admin-old", OperatorRole.Admin);
        var oldIssuing = X509CertificateLoader.LoadCertificate(server.Pki.Issuing.RawData);
        await using var second = await server.StartServerAsync(server.TempDirectory("roll-second-"));
        var secondPki = second.Services.GetRequiredService<PkiState>();
        var secondListeners = second.Services.GetRequiredService<ListenerEndpoints>();
        var secondHttp = secondListeners.Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");

        IssuingCaRollover.Result result;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            result = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("operator:test-rollover", CancellationToken.None);
        }

        Assert.Equal(AuthorityRole.Issuing, result.Previous);
        Assert.NotEqual(oldIssuing.Thumbprint, server.Pki.Issuing.Thumbprint);
        // The rollover returns once every live instance signs with the new CA, so a renewal asked for next gets it
        // wherever the device lands: no waiting here.
        Assert.Empty(result.Lagging);
        Assert.True(result.Instances >= 2, $"{result.Instances} live instances seen");
        Assert.Equal(server.Pki.Issuing.Thumbprint, secondPki.Issuing.Thumbprint);
        var newIssuing = server.Pki.Issuing;
        Assert.Equal(server.Pki.Root.Subject, newIssuing.Issuer);

        // Re-enrollment with the old CA's certificate, on the second instance: the new certificate is the new CA's.
        using var moved = await ReenrollAsync(EstClient.Create(server, moves.Certificate, secondListeners.Uri(ListenerEndpoints.Est)), moves);
        Assert.Equal(newIssuing.Subject, moved.Certificate.Issuer);
        Assert.Contains($"/crl/{result.Current}.crl", CrlUrl(moved.Certificate));
        Assert.Equal(CertificateIdentifiers.SubjectKeyId(newIssuing), await server.Database.ScalarAsync<string>(
            $"SELECT \"IssuerKeyId\" FROM certificates WHERE \"Serial\" = '{moved.Certificate.SerialNumber.ToLowerInvariant()}'"));

        // The old CA's certificates still pass the broker and the operator API during the overlap.
        using (var session = await MqttTestClient.ConnectAsync(server, stays.Certificate, stays.Id, secondListeners.Get(ListenerEndpoints.Mqtt)!.Port))
        {
            Assert.True(session.IsConnected);
        }
        using var api = OperatorClient.Create(server, oldAdmin);
        using (var revoke = await api.PostAsJsonAsync($"/api/v1/devices/{stays.Id}/revoke", new { reason = "keyCompromise" }))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        // Real clients: cacerts lists both issuing CAs and the root; each CRL verifies under its own CA; the old CA's
        // CRL lists the certificate revoked after the rollover and the new one's does not; OCSP answers for both CAs.
        var dir = stays.Directory;
        File.WriteAllText(Path.Combine(dir, "old.pem"), oldIssuing.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "new.pem"), newIssuing.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "root.pem"), server.Pki.Root.ExportCertificatePem() + "\n");
        File.WriteAllText(Path.Combine(dir, "moved.pem"), moved.Certificate.ExportCertificatePem() + "\n");
        File.Copy(server.CaBundlePath, Path.Combine(dir, "ca.pem"), overwrite: true);
        var openssl = await ChildProcess.ShellAsync($"""
            curl -sSf --cacert ca.pem '{new Uri(server.EstBase, ".well-known/est/cacerts")}' | tr -d '\r\n' | base64 -d > cacerts.p7
            openssl pkcs7 -inform DER -in cacerts.p7 -print_certs -noout | grep -c '^subject='
            echo ---
            curl -sSf -o old.der '{new Uri(secondHttp, "/crl/issuing.crl")}'
            curl -sSf -o new.der '{new Uri(secondHttp, $"/crl/{result.Current}.crl")}'
            openssl crl -inform DER -in old.der -noout -CAfile old.pem 2>&1
            openssl crl -inform DER -in old.der -noout -text | grep -ci '{stays.Certificate.SerialNumber}' || true
            echo ---
            openssl crl -inform DER -in new.der -noout -CAfile new.pem 2>&1
            openssl crl -inform DER -in new.der -noout -text | grep -ci '{stays.Certificate.SerialNumber}' || true
            echo ---
            cat root.pem old.pem > old-chain.pem; cat root.pem new.pem > new-chain.pem
            openssl ocsp -issuer old.pem -cert device.pem -url '{new Uri(secondHttp, "/ocsp")}' -CAfile old-chain.pem 2>&1
            echo ---
            openssl ocsp -issuer new.pem -cert moved.pem -url '{new Uri(secondHttp, "/ocsp")}' -CAfile new-chain.pem 2>&1
            """, dir);
        var parts = openssl.Stdout.Split("---");
        Assert.True(openssl.ExitCode == 0, openssl.Stderr + openssl.Stdout);
        Assert.Equal("3", parts[0].Trim());
        Assert.Contains("verify OK", parts[1]);
        Assert.EndsWith("1", parts[1].Trim());
        Assert.Contains("verify OK", parts[2]);
        Assert.EndsWith("0", parts[2].Trim());
        Assert.Contains("Response verify OK", parts[3]);
        Assert.Contains("device.pem: revoked", parts[3]);
        Assert.Contains("Response verify OK", parts[4]);
        Assert.Contains("moved.pem: good", parts[4]);

        var audit = await server.WithDbAsync(db => db.AuditEvents.Where(a => a.Actor == "operator:test-rollover").Select(a => a.Action).ToListAsync());
        Assert.Equal(["ca.key_generated", "ca.rollover", "ca.root_key_used"], audit.Order().ToArray());
        await second.StopAsync();
    }

    private static async Task<DeviceIdentity> ReenrollAsync(HttpClient client, DeviceIdentity current)
    {
        using var est = client;
        var (key, csr) = TestPki.Csr(current.Id);
        using var response = await EstClient.PostCsrAsync(est, "simplereenroll", csr);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(response);
        return DeviceIdentity.FromCertificate(current.Id, issued.CopyWithPrivateKey(key));
    }

    private static string CrlUrl(X509Certificate2 certificate) =>
        certificate.Extensions["2.5.29.31"] is { } cdp ? new System.Security.Cryptography.AsnEncodedData(cdp.Oid, cdp.RawData).Format(false) : "";
}
