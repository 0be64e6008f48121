using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

/// <summary>Every operator API route refuses anonymous, bootstrap and device callers, and viewers where admin is needed.</summary>
public sealed class OperatorApiAuthorizationTests(OperatorApiAuthorizationTests.Fixture server) : IClassFixture<OperatorApiAuthorizationTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        public X509Certificate2 Admin { get; private set; } = null!;
        public X509Certificate2 Viewer { get; private set; } = null!;
        public X509Certificate2 Device { get; private set; } = null!;
        public X509Certificate2 BootstrapCert { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Admin = await OperatorClient.IssueAsync(this, "alice", OperatorRole.Admin);
            Viewer = await OperatorClient.IssueAsync(this, "victor", OperatorRole.Viewer);
            await RegisterAsync("authz-dev1");
            BootstrapCert = Bootstrap("authz-dev1");
            using var client = EstClient.Create(this, BootstrapCert);
            var (key, csr) = TestPki.Csr("authz-dev1");
            using var response = await EstClient.PostCsrAsync(client, "simpleenroll", csr);
            using var issued = await EstClient.ReadCertificateAsync(response);
            Device = issued.CopyWithPrivateKey(key);
        }
    }

    public static TheoryData<string, string, bool> Routes => new()
    {
        { "GET", "/api/v1/devices", false },
        { "GET", "/api/v1/devices/authz-dev1", false },
        { "GET", "/api/v1/manufacturers", false },
        { "GET", "/api/v1/enrollments/pending", false },
        { "GET", "/api/v1/audit", false },
        { "GET", "/openapi/v1.json", false },
        { "GET", "/api/v1/broker", false },
        { "GET", "/api/v1/renewals", false },
        { "POST", "/api/v1/devices", true },
        { "POST", "/api/v1/devices/import?manufacturer=demo", true },
        { "POST", "/api/v1/devices/authz-dev1/suspend", true },
        { "POST", "/api/v1/devices/authz-dev1/reinstate", true },
        { "POST", "/api/v1/devices/authz-dev1/allow-reprovision", true },
        { "POST", "/api/v1/devices/no-such-device/revoke", true },
        { "POST", "/api/v1/manufacturers", true },
        { "PUT", "/api/v1/manufacturers/demo/unregistered-policy", true },
        { "PUT", "/api/v1/manufacturers/demo/profile", true },
        { "PUT", "/api/v1/manufacturers/demo/proof-of-possession", true },
        { "POST", "/api/v1/devices/authz-dev1/renew", true },
        { "POST", "/api/v1/renewals/campaigns", true },
        { "POST", "/api/v1/enrollments/authz-dev1/approve", true },
        { "POST", "/api/v1/enrollments/authz-dev1/reject", true },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Anonymous_bootstrap_and_device_callers_are_refused_and_audited(string method, string path, bool _)
    {
        var before = await RefusalCountAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(null, method, path));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(server.BootstrapCert, method, path));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(server.Device, method, path));

        Assert.Equal(before + 3, await RefusalCountAsync());
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Viewers_read_but_only_admins_change(string method, string path, bool needsAdmin)
    {
        var viewer = await SendAsync(server.Viewer, method, path);
        var admin = await SendAsync(server.Admin, method, path);

        if (needsAdmin)
        {
            Assert.Equal(HttpStatusCode.Forbidden, viewer);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, viewer);
        }
        Assert.NotEqual(HttpStatusCode.Forbidden, admin);
        Assert.NotEqual(HttpStatusCode.Unauthorized, admin);
        // An admin let through to a 500 is no success: the route must answer, not fail.
        Assert.True((int)admin < 500, $"{method} {path} answered {(int)admin} to an admin");
    }

    [Fact]
    public async Task A_device_refused_by_the_api_is_audited_by_its_device_name()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(server.Device, "GET", "/api/v1/devices/actor-check-1"));

        var row = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .SingleAsync(a => a.Action == "api.refused" && a.Detail == "GET /api/v1/devices/actor-check-1: forbidden"));
        Assert.Equal("device:authz-dev1", row.Actor);
    }

    [Fact]
    public async Task A_refusal_is_a_problem_document_with_a_reason()
    {
        using var client = OperatorClient.Create(server, server.Device);
        using var response = await client.GetAsync("/api/v1/devices");

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("forbidden", problem.RootElement.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_revoked_operator_certificate_is_refused()
    {
        using var revoked = await OperatorClient.IssueAsync(server, "mallory", OperatorRole.Admin);
        await server.Database.ExecuteAsync("UPDATE certificates SET \"Status\" = 'revoked' WHERE \"Serial\" = $1", revoked.SerialNumber.ToLowerInvariant());

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(revoked, "GET", "/api/v1/devices"));
    }

    [Fact]
    public async Task The_API_is_not_served_on_the_EST_port()
    {
        using var client = EstClient.Create(server, server.Admin);
        using var response = await client.GetAsync("/api/v1/devices");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_audit_log_has_no_route_that_changes_it()
    {
        using var client = OperatorClient.Create(server, server.Admin);
        using var delete = await client.DeleteAsync("/api/v1/audit");
        using var post = await client.PostAsync("/api/v1/audit", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    private async Task<HttpStatusCode> SendAsync(X509Certificate2? certificate, string method, string path)
    {
        using var client = OperatorClient.Create(server, certificate);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method != "GET")
        {
            request.Content = path.Contains("import")
                ? new StringContent("serial\n", Encoding.UTF8, "text/csv")
                : new StringContent("{}", Encoding.UTF8, "application/json");
        }
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private Task<long> RefusalCountAsync() =>
        server.Database.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE \"Action\" = 'api.refused'");
}
