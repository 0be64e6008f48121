using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IotPki.Server.Operators;
using IotPki.Server.Renewal;
using IotPki.Server.Tests.Fleet;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Renewal;

/// <summary>A renewal campaign re-keys a population through the planner: 100 connected devices are asked, each
/// renews over EST as its agent would, and the campaign's progress says so; the operator CLI starts and follows one.</summary>
public sealed class CampaignTests(CampaignTests.Fixture server) : IClassFixture<CampaignTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Renewal:MaxAskJitter"] = "00:00:01",
        };
    }

    private const int Count = 100;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_campaign_re_keys_100_devices_and_reports_their_progress()
    {
        var devices = new List<DeviceIdentity>();
        foreach (var chunk in Enumerable.Range(0, Count).Chunk(10))
        {
            devices.AddRange(await Task.WhenAll(chunk.Select(i => DeviceIdentity.EnrollAsync(server, $"campaign-{i:D4}"))));
        }
        var renewals = devices.Select(d => RenewOnAskAsync(d)).ToList();
        using var admin = await OperatorClient.IssueAsync(server, "campaigner", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        await WaitAsync(async () => await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Online\"") == Count);

        using var started = await OperatorClient.PostJsonAsync(api, "/api/v1/renewals/campaigns", new { manufacturer = "demo", within = "00:00:01" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var campaign = (await started.Content.ReadFromJsonAsync<CampaignView>(Json))!;
        Assert.Equal((Count, 0, false), (campaign.Devices, campaign.Renewed, campaign.Done));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.campaign' AND \"Actor\" = 'operator:campaigner'"));

        // The planner's passes, as Hangfire runs them, until every device was asked.
        await WaitAsync(async () =>
        {
            await using var scope = server.Services.CreateAsyncScope();
            var due = await scope.ServiceProvider.GetRequiredService<RenewalPlanner>().DueAsync(RenewalPlanner.BatchSize, CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<RenewalAskBatch>().RunAsync([.. due], CancellationToken.None);
            return (await Progress(api, campaign.Id)).Asked == Count;
        }, TimeSpan.FromSeconds(30));
        var renewed = await Task.WhenAll(renewals).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(renewed, status => Assert.Equal(HttpStatusCode.OK, status));
        var done = await Progress(api, campaign.Id);
        Assert.Equal((Count, Count, true), (done.Asked, done.Renewed, done.Done));

        var (exit, output, error) = await AdminCli.RunAsync([.. await AdminCli.CredentialsAsync(server, "cli-campaigner", OperatorRole.Admin),
            "renew", "--manufacturer", "demo", "--within", "01:00:00"]);
        Assert.True(exit == 0, error);
        Assert.Contains($"manufacturer=demo, {Count} device(s) within 01:00:00", output);
        foreach (var device in devices)
        {
            device.Dispose();
        }
    }

    [Fact]
    public async Task A_campaign_without_a_population_is_a_problem_and_starts_nothing()
    {
        using var admin = await OperatorClient.IssueAsync(server, "campaign-typo", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);

        using var response = await OperatorClient.PostJsonAsync(api, "/api/v1/renewals/campaigns", new { within = "00:10:00" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("bad_campaign", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.campaign' AND \"Actor\" = 'operator:campaign-typo'"));
    }

    /// <summary>What an agent does: connect, listen on its renew topic, and on the ask renew over EST with its current certificate.</summary>
    private async Task<HttpStatusCode> RenewOnAskAsync(DeviceIdentity device)
    {
        using var listener = await CommandListener.ConnectAsync(server, device.Certificate, device.Id);
        using var command = await listener.First.WaitAsync(TimeSpan.FromSeconds(60));
        using var est = EstClient.Create(server, device.Certificate);
        var (key, csr) = TestPki.Csr(device.Id);
        using (key)
        using (var response = await EstClient.PostCsrAsync(est, "simplereenroll", csr))
        {
            return response.StatusCode;
        }
    }

    private static async Task<CampaignView> Progress(HttpClient api, long id) =>
        (await api.GetFromJsonAsync<CampaignView>($"/api/v1/renewals/campaigns/{id}", Json))!;

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not come true");
            await Task.Delay(100);
        }
    }
}
