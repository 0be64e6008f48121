using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Data.Entities;
using IotPki.Server.Fleet;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

public sealed class FleetOperationsTests(FleetOperationsTests.Fixture server) : IClassFixture<FleetOperationsTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        public X509Certificate2 Admin { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Admin = await OperatorClient.IssueAsync(this, "ops-admin", OperatorRole.Admin);
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private HttpClient Admin() => OperatorClient.Create(server, server.Admin);

    private async Task<HttpStatusCode> EnrollAsync(string serial, X509Certificate2? bootstrap = null)
    {
        using var minted = bootstrap is null ? server.Bootstrap(serial) : null;
        using var client = EstClient.Create(server, bootstrap ?? minted);
        using var response = await EstClient.PostCsrAsync(client, "simpleenroll", TestPki.Csr(serial).CsrBase64);
        return response.StatusCode;
    }

    [Fact]
    public async Task Device_list_pages_by_cursor_and_filters_by_state_and_manufacturer()
    {
        await server.RegisterAsync([.. Enumerable.Range(0, 250).Select(i => $"page-{i:D4}")]);
        await EnrollAsync("page-0007");
        using var client = Admin();

        var seen = new List<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = await client.GetFromJsonAsync<Page<DeviceView>>($"/api/v1/devices?manufacturer=demo&limit=100{(after is null ? "" : $"&after={after}")}", Json);
            seen.AddRange(page!.Items.Where(d => d.Id.Value.StartsWith("page-")).Select(d => d.Id.Value));
            after = page.Next;
            pages++;
        } while (after is not null && pages < 10);
        var active = await client.GetFromJsonAsync<Page<DeviceView>>("/api/v1/devices?state=active&limit=1000", Json);
        using var badLimit = await client.GetAsync("/api/v1/devices?limit=100000");

        Assert.Equal(250, seen.Distinct().Count());
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.Contains(active!.Items, d => d.Id == DeviceId.Parse("page-0007") && d.CertificateExpiresAt > DateTimeOffset.UtcNow.AddDays(29));
        Assert.DoesNotContain(active.Items, d => d.Id == DeviceId.Parse("page-0008"));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.StatusCode);
    }

    [Fact]
    public async Task Devices_expiring_before_a_date_are_found()
    {
        await server.RegisterAsync("expiring-01", "expiring-02");
        await EnrollAsync("expiring-01");
        await EnrollAsync("expiring-02");
        await server.Database.ExecuteAsync("UPDATE certificates SET \"NotAfter\" = now() + interval '2 days' WHERE \"DeviceId\" = 'expiring-01'");
        using var client = Admin();

        var page = await client.GetFromJsonAsync<Page<DeviceView>>($"/api/v1/devices?expiringBefore={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(7).ToString("O"))}", Json);

        Assert.Contains(page!.Items, d => d.Id == DeviceId.Parse("expiring-01"));
        Assert.DoesNotContain(page.Items, d => d.Id == DeviceId.Parse("expiring-02"));
    }

    [Fact]
    public async Task One_device_shows_its_certificate_history()
    {
        await server.RegisterAsync("history-01");
        Assert.Equal(HttpStatusCode.OK, await EnrollAsync("history-01"));
        using var client = Admin();

        var detail = await client.GetFromJsonAsync<DeviceDetailView>("/api/v1/devices/history-01", Json);
        using var missing = await client.GetAsync("/api/v1/devices/no-such-device");

        Assert.Equal(DeviceState.Active, detail!.Device.State);
        var certificate = Assert.Single(detail.Certificates);
        Assert.Equal("valid", certificate.Status);
        Assert.NotNull(detail.BootstrapThumbprint);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Csv_import_over_the_API_reports_bad_rows_by_line_and_keeps_good_ones()
    {
        using var client = Admin();
        var csv = "serial\napi-csv-001\nNOT OK\napi-csv-002\n";

        using var response = await client.PostAsync("/api/v1/devices/import?manufacturer=demo", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var result = await response.Content.ReadFromJsonAsync<ImportResultView>(Json);
        using var unknown = await client.PostAsync("/api/v1/devices/import?manufacturer=nobody", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, result!.Added);
        Assert.StartsWith("line 3:", Assert.Single(result.Errors));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(2L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'api-csv-%'"));
    }

    [Fact]
    public async Task An_import_over_the_size_limit_is_refused_with_a_problem_and_nothing_is_registered()
    {
        using var client = Admin();
        var lines = Enumerable.Range(0, 400_000).Select(i => $"huge-{i:D7}");
        var csv = string.Join('\n', lines);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/devices/import?manufacturer=demo")
        {
            Content = new StringContent(csv, Encoding.UTF8, "text/csv"),
        };
        request.Headers.ExpectContinue = true; // the server answers from the headers alone, before the body is sent

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'huge-%'"));
    }

    [Fact]
    public async Task A_pending_device_waits_with_202_until_approved_and_a_rejected_one_is_blocked()
    {
        using var makerCa = TestPki.NewCa("Pending Maker CA");
        using var client = Admin();
        using var created = await client.PostAsJsonAsync("/api/v1/manufacturers",
            new { name = "pending-maker", caCertificatePem = makerCa.CertificatePem, unregisteredPolicy = "pending" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var approvedBoot = TestPki.Device("wait-approve").SignedBy(makerCa).Build();
        using var rejectedBoot = TestPki.Device("wait-reject").SignedBy(makerCa).Build();

        using (var est = EstClient.Create(server, approvedBoot))
        using (var first = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr("wait-approve").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            Assert.NotNull(first.Headers.RetryAfter);
        }
        Assert.Equal(HttpStatusCode.Accepted, await EnrollAsync("wait-reject", rejectedBoot));
        var pending = await client.GetFromJsonAsync<Page<DeviceView>>("/api/v1/enrollments/pending", Json);
        Assert.Contains(pending!.Items, d => d.Id == DeviceId.Parse("wait-approve"));

        using (var approve = await client.PostAsync("/api/v1/enrollments/wait-approve/approve", null)) { Assert.Equal(HttpStatusCode.OK, approve.StatusCode); }
        using (var reject = await client.PostAsync("/api/v1/enrollments/wait-reject/reject", null)) { Assert.Equal(HttpStatusCode.OK, reject.StatusCode); }

        using (var est = EstClient.Create(server, approvedBoot))
        using (var second = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr("wait-approve").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }
        using (var est = EstClient.Create(server, rejectedBoot))
        using (var refused = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr("wait-reject").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        Assert.True(await server.WithDbAsync(db => db.AuditEvents.AnyAsync(a => a.Action == "enrollment.approved" && a.DeviceId == DeviceId.Parse("wait-approve") && a.Actor == "operator:ops-admin")));
    }

    [Fact]
    public async Task Auto_approve_enrolls_an_unregistered_serial_at_once()
    {
        using var makerCa = TestPki.NewCa("Auto Maker CA");
        using var client = Admin();
        using (var created = await client.PostAsJsonAsync("/api/v1/manufacturers", new { name = "auto-maker", caCertificatePem = makerCa.CertificatePem }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using var boot = TestPki.Device("auto-0001").SignedBy(makerCa).Build();
        Assert.Equal(HttpStatusCode.Forbidden, await EnrollAsync("auto-0001", boot));

        using (var policy = await client.PutAsJsonAsync("/api/v1/manufacturers/auto-maker/unregistered-policy", new { policy = "auto-approve" }))
        {
            Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await EnrollAsync("auto-0001", boot));
    }

    [Fact]
    public async Task Re_provisioning_allowed_by_an_operator_lets_the_bootstrap_certificate_enroll_once_more()
    {
        await server.RegisterAsync("reprov-01");
        using var boot = server.Bootstrap("reprov-01");
        Assert.Equal(HttpStatusCode.OK, await EnrollAsync("reprov-01", boot));
        Assert.Equal(HttpStatusCode.Forbidden, await EnrollAsync("reprov-01", boot));
        using var client = Admin();

        using (var allow = await client.PostAsync("/api/v1/devices/reprov-01/allow-reprovision", null)) { Assert.Equal(HttpStatusCode.OK, allow.StatusCode); }

        Assert.Equal(HttpStatusCode.OK, await EnrollAsync("reprov-01", boot));
        Assert.Equal(HttpStatusCode.Forbidden, await EnrollAsync("reprov-01", boot));
    }

    [Fact]
    public async Task A_suspended_device_cannot_renew_until_reinstated()
    {
        await server.RegisterAsync("suspend-01");
        using var boot = server.Bootstrap("suspend-01");
        using var est = EstClient.Create(server, boot);
        var (key, csr) = TestPki.Csr("suspend-01");
        using var enrolled = await EstClient.PostCsrAsync(est, "simpleenroll", csr);
        using var issued = await EstClient.ReadCertificateAsync(enrolled);
        using var current = issued.CopyWithPrivateKey(key);
        using var client = Admin();
        using var renewer = EstClient.Create(server, current);

        using (var suspend = await client.PostAsync("/api/v1/devices/suspend-01/suspend", null)) { Assert.Equal(HttpStatusCode.OK, suspend.StatusCode); }
        using (var refused = await EstClient.PostCsrAsync(renewer, "simplereenroll", TestPki.Csr("suspend-01").CsrBase64))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        using (var reinstate = await client.PostAsync("/api/v1/devices/suspend-01/reinstate", null)) { Assert.Equal(HttpStatusCode.OK, reinstate.StatusCode); }
        using var renewed = await EstClient.PostCsrAsync(renewer, "simplereenroll", TestPki.Csr("suspend-01").CsrBase64);

        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.True(await server.WithDbAsync(db => db.AuditEvents.AnyAsync(a => a.Action == "device.suspended" && a.DeviceId == DeviceId.Parse("suspend-01"))));
    }

    [Fact]
    public async Task Revoking_a_revoked_device_again_answers_200_and_changes_nothing()
    {
        await server.RegisterAsync("revoke-twice-01");
        Assert.Equal(HttpStatusCode.OK, await EnrollAsync("revoke-twice-01"));
        using var client = Admin();
        var id = DeviceId.Parse("revoke-twice-01");

        using var first = await OperatorClient.PostJsonAsync(client, "/api/v1/devices/revoke-twice-01/revoke", new { reason = "keyCompromise" });
        using var again = await OperatorClient.PostJsonAsync(client, "/api/v1/devices/revoke-twice-01/revoke", new { reason = "keyCompromise" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Single(JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("revokedSerials").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var view = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal("revoked", view.RootElement.GetProperty("state").GetString());
        Assert.Empty(view.RootElement.GetProperty("revokedSerials").EnumerateArray());
        Assert.Equal(1, await server.WithDbAsync(db => db.AuditEvents.CountAsync(a => a.Action == "device.revoked" && a.DeviceId == id)));
    }

    [Fact]
    public async Task Audit_log_is_queryable_by_device()
    {
        await server.RegisterAsync("audited-01");
        await EnrollAsync("audited-01");
        using var client = Admin();

        var page = await client.GetFromJsonAsync<Page<AuditEventView>>("/api/v1/audit?deviceId=audited-01", Json);

        Assert.Contains(page!.Items, a => a.Action == "certificate.issued");
        Assert.All(page.Items, a => Assert.Equal("audited-01", a.DeviceId?.Value));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_the_routes()
    {
        using var client = Admin();
        var document = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/v1/devices", document);
        Assert.Contains("/api/v1/enrollments/{id}/approve", document);
    }

    [Fact]
    public async Task An_operator_certificate_from_the_command_line_works_with_curl()
    {
        var dir = server.TempDirectory("iotpki-op-");
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__IotPki"] = server.Database.ConnectionString,
            ["IOTPKI_CA_PASSPHRASE"] = ServerFixture.Passphrase,
            ["Pki__DataDirectory"] = Path.Combine(dir, "pki"),
        };
        var add = await ServerCli.RunAsync(["operator", "add", "carol", "--role", "viewer", "--out", dir], dir, env);
        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "carol.key")));

        var curl = await ChildProcess.RunAsync("curl", ["-sS", "-w", "\n%{http_code}", "--cert", "carol.pem", "--key", "carol.key",
            "--cacert", server.CaBundlePath, new Uri(server.OperatorBase, "/api/v1/manufacturers").ToString()], dir);
        var p12 = await ChildProcess.RunAsync("openssl", ["pkcs12", "-in", "carol.p12", "-nokeys", "-passin", $"file:{Path.Combine(dir, "carol.p12.pass")}"], dir);

        Assert.EndsWith("200", curl.Stdout.Trim());
        Assert.Contains("\"name\":\"demo\"", curl.Stdout);
        Assert.Equal(0, p12.ExitCode);
        Assert.Contains("CN=carol", p12.Stdout.Replace(" = ", "="));
    }
}
