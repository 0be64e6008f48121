using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Est;

/// <summary>A manufacturer may require proof of possession (RFC 7030 §3.5) on its devices' first enrollment: a CSR
/// without the session's tls-unique is then refused, one with it enrolls.</summary>
public sealed class ProofOfPossessionRequiredTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task When_the_manufacturer_requires_it_a_first_enrollment_without_tls_unique_is_refused_and_one_with_it_enrolls()
    {
        using var admin = await OperatorClient.IssueAsync(server, "pop-admin", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        using (var set = await api.PutAsJsonAsync("/api/v1/manufacturers/demo/proof-of-possession", new { required = true }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            using var view = JsonDocument.Parse(await set.Content.ReadAsStringAsync());
            Assert.True(view.RootElement.GetProperty("requireProofOfPossession").GetBoolean());
        }
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'manufacturer.proof-of-possession-changed' AND \"Actor\" LIKE '%pop-admin%'"));
        await server.RegisterAsync("pop-req-0001");
        using var bootstrap = server.Bootstrap("pop-req-0001");

        using var est = EstClient.Create(server, bootstrap);
        var (_, csr) = TestPki.Csr("pop-req-0001");
        using (var refused = await EstClient.PostCsrAsync(est, "simpleenroll", csr))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("proof_of_possession_required", problem.RootElement.GetProperty("reason").GetString());
        }
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking().SingleAsync(a => a.DeviceId == DeviceId.Parse("pop-req-0001")));
        Assert.Equal(("refused", "proof_of_possession_required"), (attempt.Outcome, attempt.Reason));

        var statusLine = await TlsUniqueEnrollment.EnrollAsync(server, bootstrap, "pop-req-0001");

        Assert.StartsWith("HTTP/1.1 200", statusLine);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"DeviceId\" = 'pop-req-0001'"));
    }

    [Fact]
    public async Task A_viewer_cannot_change_the_setting_and_a_missing_value_is_a_bad_request()
    {
        using var viewer = await OperatorClient.IssueAsync(server, "pop-viewer", OperatorRole.Viewer);
        using var asViewer = OperatorClient.Create(server, viewer);
        using var admin = await OperatorClient.IssueAsync(server, "pop-admin-2", OperatorRole.Admin);
        using var asAdmin = OperatorClient.Create(server, admin);

        using var forbidden = await asViewer.PutAsJsonAsync("/api/v1/manufacturers/demo/proof-of-possession", new { required = true });
        using var missing = await asAdmin.PutAsJsonAsync("/api/v1/manufacturers/demo/proof-of-possession", new { });

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
    }
}
