using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Fleet;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Renewal;

/// <summary>A manufacturer's certificate profile (lifetime, renewal window, at-risk fraction) governs its devices'
/// next certificates and their renewal cycles; a profile that makes no window is refused.</summary>
public sealed class ManufacturerProfileTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_profile_sets_the_lifetime_and_window_of_the_manufacturers_next_certificates()
    {
        using var admin = await OperatorClient.IssueAsync(server, "profiler", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);

        using var response = await api.PutAsJsonAsync("/api/v1/manufacturers/demo/profile",
            new { operationalLifetime = "01:00:00", renewalWindowStart = 0.5, renewalAtRisk = 0.8 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = (await response.Content.ReadFromJsonAsync<ManufacturerView>(Json))!;
        Assert.Equal((TimeSpan.FromHours(1), 0.5, 0.8), (view.OperationalLifetime, view.RenewalWindowStart, view.RenewalAtRisk));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'manufacturer.profile-changed' AND \"Actor\" = 'operator:profiler'"));

        using var device = await DeviceIdentity.EnrollAsync(server, "profiled-0001");

        var renewal = await server.WithDbAsync(db => db.Renewals.AsNoTracking().SingleAsync(r => r.DeviceId == DeviceId.Parse("profiled-0001")));
        var lifetime = renewal.NotAfter - renewal.NotBefore;
        // notBefore is backdated by the clock-skew allowance; the hour is what the profile asked for.
        Assert.InRange(renewal.NotAfter - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(58), TimeSpan.FromMinutes(61));
        Assert.Equal(renewal.NotBefore + lifetime * 0.5, renewal.WindowOpensAt, TimeSpan.FromSeconds(1));
        Assert.Equal(renewal.NotBefore + lifetime * 0.8, renewal.AtRiskAt, TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData(0.9, 0.5)]
    [InlineData(0.0, 0.5)]
    [InlineData(0.5, 1.0)]
    public async Task A_profile_that_makes_no_renewal_window_is_refused_and_changes_nothing(double start, double atRisk)
    {
        using var admin = await OperatorClient.IssueAsync(server, $"bad-profiler-{(int)(start * 10)}{(int)(atRisk * 10)}", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        var before = await server.Database.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE \"Action\" = 'manufacturer.profile-changed'");

        using var response = await api.PutAsJsonAsync("/api/v1/manufacturers/demo/profile", new { renewalWindowStart = start, renewalAtRisk = atRisk });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("bad_profile", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal(before, await server.Database.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE \"Action\" = 'manufacturer.profile-changed'"));
    }
}
