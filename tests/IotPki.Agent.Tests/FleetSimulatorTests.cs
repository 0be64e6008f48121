using IotPki.FirmwareSim;
using IotPki.Identity;
using IotPki.Server.Fleet;
using IotPki.Server.Renewal;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Agent.Tests;

/// <summary><c>iotpki-sim fleet</c>: a minted production run, each device on the agent library itself, enrolls and
/// connects to the real server, renews on the server's ask, and the summary counts what happened.</summary>
public sealed class FleetSimulatorTests(FleetSimulatorTests.Fixture server) : IClassFixture<FleetSimulatorTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Renewal:MaxAskJitter"] = "00:00:02" };
    }

    private const int Devices = 12;

    [Fact]
    public async Task A_minted_fleet_enrolls_connects_and_renews_on_the_servers_ask_and_the_summary_counts_it()
    {
        var directory = server.TempDirectory("fleet-");
        var factory = new Factory(directory);
        var ids = factory.Mint("simfleet-", Devices, TimeSpan.FromDays(30)).ToList();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>().RegisterAsync("simfleet", await File.ReadAllTextAsync(factory.CaCertificatePath),
                DeviceIdField.CommonName, "test", CancellationToken.None);
            Assert.Empty((await scope.ServiceProvider.GetRequiredService<DeviceRegistration>().RegisterAsync("simfleet", ids, "test", CancellationToken.None)).Errors);
        }
        var run = new FleetRun(factory, [(server.EstBase, new Uri($"mqtts://localhost:{server.MqttPort}"))], server.CaBundlePath,
            startsPerSecond: 0, renewalFraction: 0.99);
        var progress = new StringWriter();
        using var stop = new CancellationTokenSource();

        var fleet = run.RunAsync(ids, TimeSpan.FromMinutes(2), progress, stop.Token);
        await WaitAsync(() => run.Events.Connected >= Devices && server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM devices WHERE \"Online\" AND \"Id\" LIKE 'simfleet-%'").Result == Devices, run, progress);
        await server.Database.ExecuteAsync("UPDATE device_renewals SET \"SlotAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", ids[0]);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RenewalAskBatch>().RunAsync([ids[0]], CancellationToken.None);
        }
        await WaitAsync(() => run.Events.Renewed >= 1, run, progress);
        await stop.CancelAsync();
        await fleet;
        var (line, json) = run.Summary(TimeSpan.FromSeconds(10));

        Assert.Equal(Devices, run.Events.Enrolled);
        Assert.True(run.Events.Errors.IsEmpty, string.Join("; ", run.Events.Errors));
        Assert.Equal(1, run.Events.RotationsOnAsk);
        Assert.True(run.Events.Asked >= 1);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.asked' AND \"DeviceId\" = $1", ids[0]));
        Assert.Contains($"enrolled={Devices}", line);
        Assert.Contains("\"renewed\": 1", json);
        Assert.Contains($"enrolled={Devices}", progress.ToString());
        Assert.Equal(Devices + 1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM certificates WHERE \"Kind\" = 'operational' AND \"DeviceId\" LIKE 'simfleet-%'"));
    }

    private static async Task WaitAsync(Func<bool> condition, FleetRun run, StringWriter progress)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out: {run.Summary(TimeSpan.Zero).Line}; {progress}; {string.Join("; ", run.Events.Errors)}");
            await Task.Delay(100);
        }
    }
}
