using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>The server with its CA keys in a PKCS#11 token (SoftHSM2): the issuing key in one token, the root's in
/// another, both generated inside and never extractable; EST, CRL and OCSP all sign through the token.</summary>
public sealed class HsmServerFixture : ServerFixture
{
    public const string Pin = SoftHsm.Pin;
    public string IssuingToken { get; private set; } = "";
    public string RootToken { get; private set; } = "";
    private string PinFile => Path.Combine(DataDirectory, "pkcs11-pin");

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Ca:KeyStore"] = "pkcs11",
        ["Ca:Pkcs11:Library"] = SoftHsm.Library,
        ["Ca:Pkcs11:Token"] = IssuingToken,
        ["Ca:Pkcs11:RootToken"] = RootToken,
        ["Ca:Pkcs11:PinFile"] = PinFile,
    };

    public override async Task InitializeAsync()
    {
        IssuingToken = await SoftHsm.TakeTokenAsync();
        RootToken = await SoftHsm.TakeTokenAsync();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        await using (var file = new StreamWriter(PinFile, options))
        {
            await file.WriteLineAsync(Pin);
        }
        await base.InitializeAsync();
    }
}

public sealed class HsmCaTests(HsmServerFixture server) : IClassFixture<HsmServerFixture>
{
    [Fact]
    public async Task The_CA_keys_are_generated_in_their_tokens_sensitive_never_extractable_and_for_signing_only()
    {
        var issuing = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'issuing'");
        var root = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'root'");
        Assert.StartsWith($"pkcs11:token={server.IssuingToken};object=iotpki-issuing;id=", issuing);
        Assert.StartsWith($"pkcs11:token={server.RootToken};object=iotpki-root;id=", root);

        foreach (var token in new[] { server.IssuingToken, server.RootToken })
        {
            var listed = await SoftHsm.ListPrivateKeysAsync(token, HsmServerFixture.Pin);
            Assert.True(listed.ExitCode == 0, listed.Stderr);
            Assert.Contains("Private Key Object; EC", listed.Stdout);
            Assert.Contains("never extractable", listed.Stdout);
            Assert.Matches(@"Usage:\s+sign\s*\n", listed.Stdout);
            Assert.Contains("sensitive", listed.Stdout);
        }
        var created = await server.WithDbAsync(db => db.AuditEvents.Where(a => a.Action == "ca.created").Select(a => a.Detail).ToListAsync());
        Assert.Contains(created, d => d!.StartsWith("root:", StringComparison.Ordinal) && d.EndsWith("key generated in the pkcs11 store", StringComparison.Ordinal));
        Assert.Contains(created, d => d!.StartsWith("issuing:", StringComparison.Ordinal) && d.EndsWith("key generated in the pkcs11 store", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains(HsmServerFixture.Pin, StringComparison.Ordinal));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE strpos(coalesce(\"Detail\", '') || \"Actor\", $1) > 0", HsmServerFixture.Pin));
    }

    [Fact]
    public async Task Enroll_renew_revoke_CRL_and_OCSP_are_signed_by_the_token_key_on_a_second_instance_too()
    {
        const string id = "hsm-device-01";
        await server.RegisterAsync(id);
        // A second instance opens the issuing key in the token by its reference (the first one generated it).
        await using var second = await server.StartServerAsync(server.TempDirectory("hsm-second-"));
        var secondListeners = second.Services.GetRequiredService<IotPki.Server.Http.ListenerEndpoints>();
        var secondHttp = secondListeners.Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");

        using var bootstrap = server.Bootstrap(id);
        using var enrolled = await EnrollAsync(EstClient.Create(server, bootstrap), "simpleenroll", id);
        using var renewed = await EnrollAsync(EstClient.Create(server, enrolled.Certificate), "simplereenroll", id);
        using var admin = await OperatorClient.IssueAsync(server, "hsm-revoker", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        using var revoke = await api.PostAsJsonAsync($"/api/v1/devices/{id}/revoke", new { reason = "keyCompromise" });
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);

        File.WriteAllText(Path.Combine(renewed.Directory, "issuing.pem"), server.Pki.Issuing.ExportCertificatePem() + "\n");
        File.Copy(server.CaBundlePath, Path.Combine(renewed.Directory, "ca.pem"), overwrite: true);
        File.Copy(enrolled.CertPath, Path.Combine(renewed.Directory, "first.pem"));
        var openssl = await ChildProcess.ShellAsync($"""
            openssl verify -CAfile ca.pem first.pem
            echo ---
            curl -sSf -o crl.der '{new Uri(secondHttp, "/crl/issuing.crl")}'
            openssl crl -inform DER -in crl.der -out crl.pem
            openssl crl -in crl.pem -noout -CAfile ca.pem 2>&1
            openssl verify -crl_check -CRLfile crl.pem -CAfile ca.pem device.pem 2>&1 || true
            echo ---
            openssl ocsp -issuer issuing.pem -cert device.pem -url '{new Uri(secondHttp, "/ocsp")}' -CAfile ca.pem 2>&1
            """, renewed.Directory);
        var parts = openssl.Stdout.Split("---");
        Assert.True(openssl.ExitCode == 0, openssl.Stderr + openssl.Stdout);
        Assert.Contains("first.pem: OK", parts[0]);
        Assert.Contains("verify OK", parts[1]);
        Assert.Contains("certificate revoked", parts[1]);
        Assert.Contains("Response verify OK", parts[2]);
        Assert.Contains("device.pem: revoked", parts[2]);
        await second.StopAsync();
    }

    [Fact]
    public async Task A_PIN_file_that_others_can_read_is_refused_at_startup()
    {
        var loose = Path.Combine(server.TempDirectory("loose-pin-"), "pin");
        await File.WriteAllTextAsync(loose, HsmServerFixture.Pin);
        File.SetUnixFileMode(loose, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            server.StartServerAsync(server.TempDirectory("loose-pin-instance-"), new Dictionary<string, string?> { ["Ca:Pkcs11:PinFile"] = loose }));

        Assert.Equal($"The PKCS#11 PIN file {loose} is readable by others: chmod 600 {loose}", e.Message);
    }

    [Fact]
    public async Task A_PIN_file_that_is_not_there_is_named_at_startup()
    {
        var missing = Path.Combine(server.TempDirectory("missing-pin-"), "pin");

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            server.StartServerAsync(server.TempDirectory("missing-pin-instance-"), new Dictionary<string, string?> { ["Ca:Pkcs11:PinFile"] = missing }));

        Assert.Equal($"The PKCS#11 PIN file {missing} does not exist.", e.Message);
    }

    private async Task<DeviceIdentity> EnrollAsync(HttpClient est, string operation, string id)
    {
        using (est)
        {
            var (key, csr) = TestPki.Csr(id);
            using var response = await EstClient.PostCsrAsync(est, operation, csr);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var issued = await EstClient.ReadCertificateAsync(response);
            return DeviceIdentity.FromCertificate(id, issued.CopyWithPrivateKey(key));
        }
    }
}
