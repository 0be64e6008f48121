using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data.Entities;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

public sealed class SimpleEnrollTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task SimpleEnroll_with_a_registered_bootstrap_certificate_returns_an_operational_certificate_committed_first()
    {
        await server.RegisterAsync("enroll-0001");
        using var bootstrap = server.Bootstrap("enroll-0001");
        using var client = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr("enroll-0001");

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", csr);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/pkcs7-mime", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(response.Content.Headers.ContentType.Parameters, p => p.Name == "smime-type" && p.Value == "certs-only");
        using var issued = await EstClient.ReadCertificateAsync(response);
        Assert.Equal("CN=enroll-0001", issued.Subject);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), issued.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(ChainVerdict.Valid, ChainValidator.Validate(issued, server.Pki.Root, [server.Pki.Issuing], DateTimeOffset.UtcNow));
        Assert.InRange(issued.NotAfter - issued.NotBefore - CertificateProfile.ClockSkewAllowance, TimeSpan.FromDays(30) - TimeSpan.FromSeconds(5), TimeSpan.FromDays(30) + TimeSpan.FromSeconds(5));

        var serial = issued.SerialNumber.ToLowerInvariant();
        var record = await server.WithDbAsync(db => db.Certificates.AsNoTracking().SingleAsync(c => c.Serial == serial));
        Assert.Equal("enroll-0001", record.DeviceId?.Value);
        Assert.Equal(CertificateStatus.Valid, record.Status);
        var device = await server.WithDbAsync(db => db.Devices.AsNoTracking().SingleAsync(d => d.Id == DeviceId.Parse("enroll-0001")));
        Assert.Equal(DeviceState.Active, device.State);
        Assert.Equal(CertificateIdentifiers.Thumbprint(bootstrap), device.BootstrapThumbprint);
        var issuedRow = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .SingleAsync(a => a.Action == "certificate.issued" && a.DeviceId == DeviceId.Parse("enroll-0001")));
        Assert.Equal("device:enroll-0001", issuedRow.Actor);
    }

    [Fact]
    public async Task Serial_numbers_of_issued_certificates_are_16_random_bytes()
    {
        var serials = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = $"serial-000{i}";
            await server.RegisterAsync(id);
            using var bootstrap = server.Bootstrap(id);
            using var client = EstClient.Create(server, bootstrap);
            using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr(id).CsrBase64);
            using var issued = await EstClient.ReadCertificateAsync(response);
            Assert.Equal(16, issued.SerialNumberBytes.Length);
            serials.Add(issued.SerialNumber);
        }
        Assert.Equal(3, serials.Count);
    }

    public static TheoryData<string, string, string, int, string> BadBodies => new()
    {
        { "malformed base64", "bad-b64", "!!!not base64!!!", 400, "malformed_base64" },
        { "not a CSR", "not-csr", Convert.ToBase64String("hello, this is not a CSR"u8.ToArray()), 400, "not_a_csr" },
        { "broken signature", "bad-sig", BrokenSignatureCsr("bad-sig"), 400, "bad_csr_signature" },
        { "too large", "too-big", new string('A', 70 * 1024), 413, "request_too_large" },
        { "names another device", "honest-1", TestPki.Csr("someone-else").CsrBase64, 403, "identity_mismatch" },
        { "weak RSA key", "weak-rsa", WeakRsaCsr("weak-rsa"), 400, "unsupported_key" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task SimpleEnroll_refuses_bad_CSRs_with_a_problem_and_an_audit_row(string _, string serial, string body, int status, string reason)
    {
        await server.RegisterAsync(serial);
        using var bootstrap = server.Bootstrap(serial);
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", body);

        await AssertRefusedAsync(response, status, reason, serial);
        var device = await server.WithDbAsync(db => db.Devices.AsNoTracking().SingleAsync(d => d.Id == DeviceId.Parse(serial)));
        Assert.Equal(DeviceState.Registered, device.State);
    }

    [Fact]
    public async Task SimpleEnroll_with_the_wrong_content_type_returns_415()
    {
        await server.RegisterAsync("ctype-0001");
        using var bootstrap = server.Bootstrap("ctype-0001");
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("ctype-0001").CsrBase64, "text/plain");

        await AssertRefusedAsync(response, 415, "wrong_content_type", "ctype-0001");
    }

    [Fact]
    public async Task SimpleEnroll_without_a_client_certificate_returns_401()
    {
        using var client = EstClient.Create(server);
        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("anon-0001").CsrBase64);
        await AssertRefusedAsync(response, 401, "no_client_certificate", null);
    }

    [Fact]
    public async Task SimpleEnroll_with_a_bootstrap_certificate_from_an_unknown_CA_returns_403()
    {
        await server.RegisterAsync("rogue-0001");
        using var rogueCa = TestPki.NewCa("Rogue Manufacturer CA");
        using var bootstrap = TestPki.Device("rogue-0001").SignedBy(rogueCa).Build();
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("rogue-0001").CsrBase64);

        await AssertRefusedAsync(response, 403, "unknown_manufacturer", null);
    }

    [Fact]
    public async Task SimpleEnroll_with_an_expired_bootstrap_certificate_returns_403()
    {
        await server.RegisterAsync("expired-0001");
        using var bootstrap = server.Bootstrap("expired-0001", TimeSpan.FromDays(1), DateTimeOffset.UtcNow.AddDays(-3));
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("expired-0001").CsrBase64);

        await AssertRefusedAsync(response, 403, "bootstrap_expired", null);
    }

    [Fact]
    public async Task SimpleEnroll_for_an_unregistered_serial_returns_403()
    {
        using var bootstrap = server.Bootstrap("never-registered");
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("never-registered").CsrBase64);

        await AssertRefusedAsync(response, 403, "unregistered_serial", null);
        Assert.False(await server.WithDbAsync(db => db.Devices.AnyAsync(d => d.Id == DeviceId.Parse("never-registered"))));
    }

    [Fact]
    public async Task SimpleEnroll_for_a_blocked_device_returns_403()
    {
        await server.RegisterAsync("blocked-0001");
        await server.Database.ExecuteAsync("UPDATE devices SET \"State\" = 'blocked' WHERE \"Id\" = 'blocked-0001'");
        using var bootstrap = server.Bootstrap("blocked-0001");
        using var client = EstClient.Create(server, bootstrap);

        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("blocked-0001").CsrBase64);

        await AssertRefusedAsync(response, 403, "device_blocked", null);
    }

    [Fact]
    public async Task A_bootstrap_certificate_presented_again_after_enrollment_is_refused_as_a_clone()
    {
        await server.RegisterAsync("clone-0001");
        using (var original = server.Bootstrap("clone-0001"))
        using (var client = EstClient.Create(server, original))
        using (var ok = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("clone-0001").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var clone = server.Bootstrap("clone-0001");
        using var cloneClient = EstClient.Create(server, clone);

        using var response = await EstClient.PostCsrAsync(cloneClient, "simpleenroll", TestPki.Csr("clone-0001").CsrBase64);

        await AssertRefusedAsync(response, 403, "already_enrolled", null);
        var refusal = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(a => a.Action == "enrollment.refused" && a.Detail!.Contains("already_enrolled")).FirstAsync());
        Assert.Equal("127.0.0.1", refusal.SourceAddress);
    }

    [Fact]
    public async Task A_device_whose_enrollment_answer_was_lost_gets_the_same_certificate_again_for_the_same_key_and_a_copy_with_another_key_is_refused()
    {
        await server.RegisterAsync("lost-0001");
        using var bootstrap = server.Bootstrap("lost-0001");
        using var client = EstClient.Create(server, bootstrap);
        var (key, csr) = TestPki.Csr("lost-0001");
        string first;
        using (var answered = await EstClient.PostCsrAsync(client, "simpleenroll", csr))
        using (var issued = await EstClient.ReadCertificateAsync(answered))
        {
            first = CertificateIdentifiers.Serial(issued);
        }

        // The device never read that answer: it asks again with the same key, as the agent does.
        using var again = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr(key, "lost-0001"));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var resent = await EstClient.ReadCertificateAsync(again);
        Assert.Equal(first, CertificateIdentifiers.Serial(resent));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), resent.PublicKey.ExportSubjectPublicKeyInfo());
        var id = DeviceId.Parse("lost-0001");
        Assert.Equal(1, await server.WithDbAsync(db => db.Certificates.CountAsync(c => c.DeviceId == id)));
        var row = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(a => a.Action == "certificate.resent" && a.DeviceId == id));
        Assert.Contains(first, row.Detail);
        Assert.Equal("127.0.0.1", row.SourceAddress);
        Assert.True(await server.WithDbAsync(db => db.EnrollmentAttempts.AnyAsync(e => e.DeviceId == id && e.Outcome == "resent" && e.IssuedSerial == first)));

        // A copy of the same bootstrap certificate with a key of its own is a clone.
        using var clone = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr("lost-0001").CsrBase64);
        Assert.Equal(HttpStatusCode.Forbidden, clone.StatusCode);
        Assert.Contains("already_enrolled", await clone.Content.ReadAsStringAsync());
        Assert.Equal(1, await server.WithDbAsync(db => db.AuditEvents.CountAsync(a => a.Action == "certificate.resent" && a.DeviceId == id)));
    }

    private async Task AssertRefusedAsync(HttpResponseMessage response, int status, string reason, string? deviceId)
    {
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(reason, problem.RootElement.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));

        var audited = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(a => a.Action == "enrollment.refused" && a.Detail!.Contains(reason)).ToListAsync());
        Assert.NotEmpty(audited);
        if (deviceId is not null)
        {
            Assert.Contains(audited, a => a.DeviceId?.Value == deviceId);
        }
        Assert.True(await server.WithDbAsync(db => db.EnrollmentAttempts.AnyAsync(e => e.Outcome == "refused" && e.Reason == reason)));

        using var stillServing = EstClient.Create(server);
        using var cacerts = await stillServing.GetAsync("cacerts");
        Assert.Equal(HttpStatusCode.OK, cacerts.StatusCode);
    }

    private static string BrokenSignatureCsr(string cn)
    {
        var der = Convert.FromBase64String(TestPki.Csr(cn).CsrBase64);
        der[^5] ^= 0x5A; // inside the signature value
        return Convert.ToBase64String(der);
    }

    private static string WeakRsaCsr(string cn)
    {
        using var rsa = RSA.Create(1024);
        var request = new CertificateRequest($"CN={cn}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return Convert.ToBase64String(request.CreateSigningRequest());
    }
}
