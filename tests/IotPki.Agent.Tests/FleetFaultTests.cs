using System.Globalization;
using System.Net;
using IotPki.FirmwareSim;
using IotPki.Identity;
using IotPki.Server.Fleet;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Revocation;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Agent.Tests;

/// <summary><c>iotpki-sim fleet</c> with every fault on, across two server instances on one database: power lost
/// mid-rotation, reconnect storms, skewed clocks, cloned bootstrap certificates, stolen devices revoked by an operator,
/// and the second instance killed mid-run and restarted.
/// Each fault injected shows the outcome the system promises, counted by the run itself.</summary>
public sealed class FleetFaultTests(FleetFaultTests.Fixture server) : IClassFixture<FleetFaultTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Renewal:MaxAskJitter"] = "00:00:02" };
    }

    private const int Devices = 16;

    [Fact]
    public async Task Every_fault_injected_shows_its_expected_outcome()
    {
        var secondDirectory = server.TempDirectory("second-instance");
        var second = await server.StartServerAsync(secondDirectory);
        var secondListeners = second.Services.GetRequiredService<ListenerEndpoints>();
        // Restarted, the second instance comes back on the ports it had.
        var secondPorts = new Dictionary<string, string?>
        {
            ["Est:Port"] = secondListeners.Get(ListenerEndpoints.Est)!.Port.ToString(CultureInfo.InvariantCulture),
            ["Broker:Port"] = secondListeners.Get(ListenerEndpoints.Mqtt)!.Port.ToString(CultureInfo.InvariantCulture),
            ["Operators:Port"] = secondListeners.Get(ListenerEndpoints.Operator)!.Port.ToString(CultureInfo.InvariantCulture),
            ["Pki:HttpPort"] = secondListeners.Get(RevocationListener.Name)!.Port.ToString(CultureInfo.InvariantCulture),
        };
        var directory = server.TempDirectory("fleet-faults-");
        var factory = new Factory(directory);
        var ids = factory.Mint("faulty-", Devices, TimeSpan.FromDays(30)).ToList();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>().RegisterAsync("faulty", await File.ReadAllTextAsync(factory.CaCertificatePath),
                DeviceIdField.CommonName, "test", CancellationToken.None);
            Assert.Empty((await scope.ServiceProvider.GetRequiredService<DeviceRegistration>().RegisterAsync("faulty", ids, "test", CancellationToken.None)).Errors);
        }
        using var admin = await OperatorClient.IssueAsync(server, "fleet-faults-admin", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        var faults = PickSeed(ids, new FleetFaults
        {
            PowerLoss = 0.5, NetworkDrop = 0.5, StormInterval = TimeSpan.FromSeconds(8), ClockSkew = 0.25, Clones = 0.2, Stolen = 0.2,
            Api = new OperatorApi(server.OperatorBase, admin),
            Kill = new ServerKill(1,
                async _ =>
                {
                    // Stopped without grace: its sessions end at once, as when the process dies.
                    await second.StopAsync(new CancellationToken(canceled: true));
                    await second.DisposeAsync();
                },
                async _ => second = await server.StartServerAsync(secondDirectory, secondPorts)),
        });
        var run = new FleetRun(factory,
            [(server.EstBase, new Uri($"mqtts://localhost:{server.MqttPort}")),
             (secondListeners.Uri(ListenerEndpoints.Est), new Uri($"mqtts://localhost:{secondListeners.Get(ListenerEndpoints.Mqtt)!.Port}"))],
            server.CaBundlePath, startsPerSecond: 0, renewalFraction: 0.99, faults, telemetryInterval: TimeSpan.FromSeconds(3));
        var progress = new StringWriter();

        // The fleet lives 75 s; an operator asks every device to rotate every 6 s in its first 45 s.
        // A device still in a reconnect back-off at 75 s gets up to two minutes more to come back before it is counted.
        var fleet = run.RunAsync(ids, TimeSpan.FromSeconds(75), progress, CancellationToken.None, settle: TimeSpan.FromMinutes(2));
        for (var round = 0; round < 8; round++)
        {
            await Task.Delay(TimeSpan.FromSeconds(6));
            foreach (var id in ids)
            {
                using var renew = await OperatorClient.PostJsonAsync(api, $"/api/v1/devices/{id}/renew");
                Assert.True(renew.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, $"{id}: {renew.StatusCode}");
            }
        }
        await fleet;
        var (line, _) = run.Summary(TimeSpan.FromSeconds(75));
        var f = run.Faults;
        // Every outcome is checked before failing, and the message starts with the ones not shown: the line after it is long.
        var missing = new List<string>();
        void Expect(bool shown, string outcome)
        {
            if (!shown)
            {
                missing.Add(outcome);
            }
        }
        Expect(f["power_loss.injected"] >= 1, "power loss injected");
        Expect(f["power_loss.recovered"] + f["power_loss.revoked_before_recovery"] == f["power_loss.injected"], "every power loss recovered");
        Expect(f["clock_skew.injected"] >= 1 && f["clock_skew.connected"] == f["clock_skew.injected"], "every skewed clock connected");
        Expect(f["clone.injected"] >= 1, "clone injected");
        Expect(f["clone.refused"] == f["clone.injected"] && f["clone.audited_with_address"] == f["clone.injected"], "every clone refused and audited");
        Expect(f["clone.not_refused"] == 0, "no clone let in");
        Expect(f["stolen.revoked"] >= 1 && f["stolen.off_broker"] == f["stolen.revoked"] && f["stolen.agent_stopped"] == f["stolen.revoked"],
            "every stolen device revoked, off the broker and stopped");
        Expect(f["network_drop.connections_cut"] >= 1, "connections cut");
        Expect(f["server_kill.injected"] == 1 && f["server_kill.restarted"] == 1, "instance killed and restarted");
        Expect(f["server_kill.devices"] >= 1 && f["server_kill.reconnected_elsewhere"] == f["server_kill.devices"], "killed instance's devices reconnected elsewhere");
        Expect(f["server_kill.asks_sent"] == f["server_kill.devices"] && f["server_kill.asks_received"] == f["server_kill.asks_sent"],
            "renew asks reached the moved devices");
        Expect(f["expected_online"] >= Devices / 2 && f["online_at_end"] == f["expected_online"], "every device online at the end");
        Expect(!run.Events.Errors.Keys.Any(k => k.StartsWith("agent stopped", StringComparison.Ordinal)), "no agent stopped");
        Expect(run.Events.Renewed >= 1, "a device renewed");
        Expect(run.Events.Telemetry >= Devices, "telemetry from every device");
        var why = $"{line} | {string.Join("; ", run.Events.Errors)} | {progress}";
        Assert.True(missing.Count == 0, $"not shown: {string.Join(", ", missing)} | {why}");

        // No identity lost: every device still standing holds a valid operational certificate, and the stolen ones hold none.
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM devices d WHERE d."Id" LIKE 'faulty-%' AND d."State" = 'revoked'
              AND EXISTS (SELECT 1 FROM certificates c WHERE c."DeviceId" = d."Id" AND c."Status" = 'valid')
            """));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM devices d WHERE d."Id" LIKE 'faulty-%' AND d."State" = 'active'
              AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c."DeviceId" = d."Id" AND c."Status" = 'valid' AND c."NotAfter" > now())
            """));
        await second.StopAsync();
        await second.DisposeAsync();
    }

    /// <summary>The first seed under which every fault hits at least one device, and no device is both cloned and
    /// stolen (a clone of a revoked device is refused for another reason).</summary>
    private static FleetFaults PickSeed(IReadOnlyList<string> ids, FleetFaults faults)
    {
        for (var seed = 1; seed < 1000; seed++)
        {
            var f = faults with { Seed = seed };
            var devices = ids.Select(id => (Skewed: f.Hits(id, "skew", f.ClockSkew), Cloned: f.Hits(id, "clone", f.Clones), Stolen: f.Hits(id, "stolen", f.Stolen))).ToList();
            if (devices.Any(d => d.Skewed) && devices.Any(d => d.Cloned) && devices.Any(d => d.Stolen) && !devices.Any(d => d.Cloned && d.Stolen))
            {
                return f;
            }
        }
        throw new InvalidOperationException("no seed hits every fault");
    }
}
