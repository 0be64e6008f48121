using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Fleet;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Renewal;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Renewal;

/// <summary>The server renews the fleet: a slot per device inside its window, asks over MQTT to online devices (and to
/// offline ones when they come back), escalation to at-risk and expired, and only the newest certificate lives on.
/// Rows are moved in time with SQL where a test would otherwise wait for a slot.</summary>
public sealed class RenewalTests(RenewalTests.Fixture server) : IClassFixture<RenewalTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Renewal:MaxAskJitter"] = "00:00:03",
        };
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Every_enrolled_device_gets_its_slot_in_the_first_half_of_its_window_and_the_slots_spread_over_it()
    {
        var ids = Enumerable.Range(0, 24).Select(i => $"slot-{i:D4}").ToArray();
        foreach (var id in ids)
        {
            using var _ = await DeviceIdentity.EnrollAsync(server, id);
        }

        var wanted = ids.Select(DeviceId.Parse).ToArray();
        var rows = await server.WithDbAsync(db => db.Renewals.AsNoTracking().Where(r => wanted.Contains(r.DeviceId)).ToListAsync());

        Assert.Equal(ids.Length, rows.Count);
        var fractions = rows.Select(r =>
        {
            Assert.Equal(RenewalStatus.Scheduled, r.Status);
            Assert.Equal(r.NotBefore + (r.NotAfter - r.NotBefore) * (2.0 / 3), r.WindowOpensAt, TimeSpan.FromSeconds(1));
            Assert.Equal(r.NotBefore + (r.NotAfter - r.NotBefore) * 0.9, r.AtRiskAt, TimeSpan.FromSeconds(1));
            var half = (r.AtRiskAt - r.WindowOpensAt) / 2;
            Assert.InRange(r.SlotAt, r.WindowOpensAt, r.WindowOpensAt + half);
            return (r.SlotAt - r.WindowOpensAt) / half;
        }).ToList();
        // Spread, not bunched: the slots fall in at least six of the eight eighths of the half-window.
        Assert.True(fractions.Select(f => (int)(f * 8)).Distinct().Count() >= 6, string.Join(", ", fractions));
    }

    [Fact]
    public async Task A_due_online_device_is_asked_once_over_MQTT_with_a_deadline_and_jitter_though_two_instances_ask_at_once()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "ask-0001");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        using var listener = await CommandListener.ConnectAsync(server, device.Certificate, device.Id);
        await WaitUntilOnlineAsync(device.Id);
        await MakeDueAsync(device.Id);

        var asked = await Task.WhenAll(AskAsync(server.Services, device.Id), AskAsync(second.Services, device.Id));
        await PlanAsync(second.Services);

        // Whoever got there first (one of the two, or the connect's own catch-up), the device was asked once.
        Assert.InRange(asked.Sum(), 0, 1);
        using var command = await listener.First.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("renew", command.RootElement.GetProperty("command").GetString());
        Assert.Equal(DeviceLifecycle.PlannerActor, command.RootElement.GetProperty("requestedBy").GetString());
        var row = await RenewalOf(device.Id);
        Assert.Equal(RenewalStatus.Asked, row.Status);
        Assert.Equal(1, row.AskCount);
        Assert.Equal(row.AtRiskAt, command.RootElement.GetProperty("deadline").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        Assert.InRange(command.RootElement.GetProperty("jitterSeconds").GetInt32(), 1, 3);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.asked' AND \"DeviceId\" = $1", device.Id));
        Assert.Single(listener.Commands);
        await second.StopAsync();
    }

    [Fact]
    public async Task An_offline_device_is_left_due_and_asked_when_it_comes_back()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "ask-offline-1");
        await MakeDueAsync(device.Id);

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var due = await scope.ServiceProvider.GetRequiredService<RenewalPlanner>().DueAsync(1000, CancellationToken.None);
            Assert.DoesNotContain(device.Id, due);
        }
        Assert.Equal(RenewalStatus.Scheduled, (await RenewalOf(device.Id)).Status);

        using var listener = await CommandListener.ConnectAsync(server, device.Certificate, device.Id);

        using var command = await listener.First.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("renew", command.RootElement.GetProperty("command").GetString());
        Assert.Equal(RenewalStatus.Asked, (await RenewalOf(device.Id)).Status);
    }

    [Fact]
    public async Task A_device_offline_through_its_slot_and_past_its_at_risk_point_is_asked_when_it_comes_back()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "late-offline-1");
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"SlotAt\" = now() - interval '2 minutes', \"AtRiskAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", device.Id));
        await PlanAsync(server.Services);
        var atRisk = await RenewalOf(device.Id);
        Assert.Equal((RenewalStatus.AtRisk, null, 0), (atRisk.Status, atRisk.AskedAt, atRisk.AskCount));

        using var listener = await CommandListener.ConnectAsync(server, device.Certificate, device.Id);

        using var command = await listener.First.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("renew", command.RootElement.GetProperty("command").GetString());
        var asked = await RenewalOf(device.Id);
        Assert.Equal((RenewalStatus.AtRisk, 1), (asked.Status, asked.AskCount));
    }

    [Fact]
    public async Task A_device_that_ignores_its_asks_becomes_at_risk_then_expired_audited_and_found_by_the_filters()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "ignorer-0001");
        using var admin = await OperatorClient.IssueAsync(server, "renewal-viewer", OperatorRole.Viewer);
        using var api = OperatorClient.Create(server, admin);

        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"SlotAt\" = now() - interval '2 minutes', \"AtRiskAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", device.Id));
        await PlanAsync(server.Services);

        Assert.Equal(RenewalStatus.AtRisk, (await RenewalOf(device.Id)).Status);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.at-risk' AND \"DeviceId\" = $1", device.Id));
        Assert.Contains(await ListAsync(api, "at-risk"), d => d.Id == DeviceId.Parse(device.Id));

        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"NotAfter\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", device.Id));
        await PlanAsync(server.Services);

        Assert.Equal(RenewalStatus.Expired, (await RenewalOf(device.Id)).Status);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.expired' AND \"DeviceId\" = $1", device.Id));
        var expired = await ListAsync(api, "expired");
        Assert.Contains(expired, d => d.Id == DeviceId.Parse(device.Id) && d.Renewal == RenewalStatus.Expired);
        var summary = await api.GetFromJsonAsync<Dictionary<string, int>>("/api/v1/renewals", Json);
        Assert.True(summary!["expired"] >= 1);
        Assert.Equal(RenewalStatusNames.All.Select(s => s.Name()).Order(), summary.Keys.Order());
        using var bad = await api.GetAsync("/api/v1/devices?renewal=late");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Once_a_newer_certificate_connects_the_older_one_may_neither_renew_nor_connect()
    {
        using var first = await DeviceIdentity.EnrollAsync(server, "superseded-1");
        using var second = await ReenrollAsync(first);
        Assert.Equal(RenewalStatus.Renewed, (await RenewalOf(first.Id)).Status);
        using (var stillBoth = await MqttTestClient.ConnectAsync(server, first.Certificate, first.Id))
        {
            // Before the newer certificate has connected, the older one still works: a rotation is not proven yet.
            await stillBoth.DisconnectAsync();
        }

        using (var proving = await MqttTestClient.ConnectAsync(server, second.Certificate, second.Id))
        {
            var oldSerial = first.Certificate.SerialNumber.ToLowerInvariant();
            for (var i = 0; i < 100 && await server.Database.ScalarAsync<string>("SELECT \"Status\" FROM certificates WHERE \"Serial\" = $1", oldSerial) != CertificateStatus.Superseded; i++)
            {
                await Task.Delay(50);
            }
            Assert.Equal(CertificateStatus.Superseded, await server.Database.ScalarAsync<string>("SELECT \"Status\" FROM certificates WHERE \"Serial\" = $1", oldSerial));
            await proving.DisconnectAsync();
        }

        using var est = EstClient.Create(server, first.Certificate);
        var (_, csr) = TestPki.Csr(first.Id);
        var attemptsBefore = await server.Database.ScalarAsync<long>("SELECT count(*) FROM enrollment_attempts WHERE \"DeviceId\" = $1", first.Id);
        using var refused = await EstClient.PostCsrAsync(est, "simplereenroll", csr);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using (var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()))
        {
            Assert.Equal("superseded", problem.RootElement.GetProperty("reason").GetString());
        }
        var attempt = await server.WithDbAsync(db => db.EnrollmentAttempts.AsNoTracking()
            .Where(a => a.DeviceId == DeviceId.Parse(first.Id)).OrderByDescending(a => a.Id).FirstAsync());
        Assert.Equal(("refused", "superseded"), (attempt.Outcome, attempt.Reason));
        Assert.Equal(attemptsBefore + 1, await server.Database.ScalarAsync<long>("SELECT count(*) FROM enrollment_attempts WHERE \"DeviceId\" = $1", first.Id));

        var again = new MqttClientFactory().CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => again.ConnectAsync(MqttTestClient.Options(server, first.Certificate, first.Id)));
    }

    private async Task<DeviceIdentity> ReenrollAsync(DeviceIdentity current)
    {
        using var est = EstClient.Create(server, current.Certificate);
        var (key, csr) = TestPki.Csr(current.Id);
        using var response = await EstClient.PostCsrAsync(est, "simplereenroll", csr);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var issued = await EstClient.ReadCertificateAsync(response);
        return DeviceIdentity.FromCertificate(current.Id, issued.CopyWithPrivateKey(key));
    }

    private static async Task<RenewalPlanner.Pass> PlanAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RenewalPlanner>().RunAsync(CancellationToken.None);
    }

    private static async Task<int> AskAsync(IServiceProvider services, string deviceId)
    {
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RenewalAskBatch>().RunAsync([deviceId], CancellationToken.None);
    }

    private async Task MakeDueAsync(string deviceId) =>
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"SlotAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", deviceId));

    private Task<DeviceRenewal> RenewalOf(string deviceId) =>
        server.WithDbAsync(db => db.Renewals.AsNoTracking().SingleAsync(r => r.DeviceId == DeviceId.Parse(deviceId)));

    private static async Task<List<DeviceView>> ListAsync(HttpClient api, string renewal) =>
        (await api.GetFromJsonAsync<Page<DeviceView>>($"/api/v1/devices?renewal={renewal}&limit=1000", Json))!.Items.ToList();

    private async Task WaitUntilOnlineAsync(string deviceId)
    {
        for (var i = 0; i < 100 && !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", deviceId); i++)
        {
            await Task.Delay(50);
        }
    }
}
