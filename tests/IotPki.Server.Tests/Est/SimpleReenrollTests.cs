using System.Net;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

public sealed class SimpleReenrollTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> EnrollAsync(string serial)
    {
        await server.RegisterAsync(serial);
        using var bootstrap = server.Bootstrap(serial);
        using var client = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr(serial);
        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", csr);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(response);
        return System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(issued, key);
    }

    [Fact]
    public async Task SimpleReenroll_with_the_current_operational_certificate_returns_a_new_certificate_for_a_new_key()
    {
        using var current = await EnrollAsync("renew-0001");
        using var client = EstClient.Create(server, current);
        var (newKey, csr) = TestPki.Csr("renew-0001");

        using var response = await EstClient.PostCsrAsync(client, "simplereenroll", csr);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var renewed = await EstClient.ReadCertificateAsync(response);
        Assert.Equal("CN=renew-0001", renewed.Subject);
        Assert.NotEqual(current.SerialNumber, renewed.SerialNumber);
        Assert.Equal(newKey.ExportSubjectPublicKeyInfo(), renewed.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.True(await server.WithDbAsync(db => db.AuditEvents.AnyAsync(a => a.Action == "certificate.renewed" && a.DeviceId == DeviceId.Parse("renew-0001"))));
    }

    [Fact]
    public async Task SimpleReenroll_with_a_bootstrap_certificate_returns_403()
    {
        await server.RegisterAsync("renew-boot");
        using var bootstrap = server.Bootstrap("renew-boot");
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simplereenroll", TestPki.Csr("renew-boot").CsrBase64);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("not_operational_certificate", Reason(await response.Content.ReadAsStringAsync()));
        Assert.True(await server.WithDbAsync(db => db.AuditEvents.AnyAsync(a => a.Action == "enrollment.refused" && a.Detail!.Contains("not_operational_certificate"))));
    }

    [Fact]
    public async Task SimpleReenroll_with_a_revoked_certificate_returns_403()
    {
        using var current = await EnrollAsync("renew-revoked");
        await server.Database.ExecuteAsync("UPDATE certificates SET \"Status\" = 'revoked', \"RevokedAt\" = now() WHERE \"Serial\" = $1",
            current.SerialNumber.ToLowerInvariant());
        using var client = EstClient.Create(server, current);

        using var response = await EstClient.PostCsrAsync(client, "simplereenroll", TestPki.Csr("renew-revoked").CsrBase64);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("certificate_revoked", Reason(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task SimpleReenroll_for_another_device_returns_403()
    {
        using var current = await EnrollAsync("renew-honest");
        using var client = EstClient.Create(server, current);

        using var response = await EstClient.PostCsrAsync(client, "simplereenroll", TestPki.Csr("renew-victim").CsrBase64);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("identity_mismatch", Reason(await response.Content.ReadAsStringAsync()));
    }

    private static string? Reason(string json) => JsonDocument.Parse(json).RootElement.GetProperty("reason").GetString();
}
