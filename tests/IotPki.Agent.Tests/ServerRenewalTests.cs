using System.Collections.Concurrent;
using IotPki.Agent.Tests.Infrastructure;
using IotPki.Identity;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Renewal;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Agent.Tests;

/// <summary>The agent under the server's renewal: it rotates when the server asks (within the ask's jitter, not at
/// once), and an operator's suspension makes it wait, not give up, so that reinstating it is all it takes.</summary>
public sealed class ServerRenewalTests(ServerRenewalTests.Fixture server) : IClassFixture<ServerRenewalTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Renewal:MaxAskJitter"] = "00:00:02",
        };
    }

    [Fact]
    public async Task When_the_server_asks_the_agent_rotates_within_the_jitter_and_the_old_certificate_is_superseded()
    {
        using var device = await AgentHarness.CreateAsync(server, "fleet-ask-0001");
        // The agent's own timer is far away: only the server's ask can make it rotate now.
        await using var run = AgentRun.Start(device, device.Options(renewalFraction: 0.99, broker: true));
        var first = await run.NextSerialAsync(null);
        await WaitAsync(() => server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", device.DeviceId));
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"SlotAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", device.DeviceId));

        await using (var scope = server.Services.CreateAsyncScope())
        {
            // The batch asks it, unless the catch-up for its subscription (still in flight) got there first: once either way.
            Assert.InRange(await scope.ServiceProvider.GetRequiredService<RenewalAskBatch>().RunAsync([device.DeviceId], CancellationToken.None), 0, 1);
        }
        var second = await run.NextSerialAsync(first);

        Assert.True(device.Log.Contains("Renew command received") || device.Log.Contains("on the server's renew command"), device.Log.ToString());
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'renewal.asked' AND \"DeviceId\" = $1", device.DeviceId));
        var renewal = await server.WithDbAsync(db => db.Renewals.AsNoTracking().SingleAsync(r => r.DeviceId == DeviceId.Parse(device.DeviceId)));
        Assert.Equal((RenewalStatus.Renewed, second), (renewal.Status, renewal.CertificateSerial));
        Assert.NotNull(renewal.RenewedAt);
        await WaitAsync(async () => await server.Database.ScalarAsync<string>(
            "SELECT \"Status\" FROM certificates WHERE \"Serial\" = $1", first) == CertificateStatus.Superseded);
    }

    [Fact]
    public async Task A_suspended_agent_waits_and_comes_back_by_itself_once_reinstated()
    {
        using var device = await AgentHarness.CreateAsync(server, "fleet-suspend-0001");
        await using var run = AgentRun.Start(device, device.Options(renewalFraction: 0.99, broker: true));
        var first = await run.NextSerialAsync(null);

        await LifecycleAsync(l => l.SuspendAsync(DeviceId.Parse(device.DeviceId), "operator:test", null, CancellationToken.None));
        await WaitAsync(() => Task.FromResult(device.Log.Contains("the device is suspended")), TimeSpan.FromSeconds(60));
        Assert.False(run.Stopped, device.Log.ToString());

        await LifecycleAsync(l => l.ReinstateAsync(DeviceId.Parse(device.DeviceId), "operator:test", null, CancellationToken.None));
        var second = await run.NextSerialAsync(first, TimeSpan.FromSeconds(60));

        Assert.NotEqual(first, second);
        Assert.False(run.Stopped);
    }

    private async Task LifecycleAsync(Func<DeviceLifecycle, Task<DeviceChange>> change)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var result = await change(scope.ServiceProvider.GetRequiredService<DeviceLifecycle>());
        Assert.True(result.Done);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not come true");
            await Task.Delay(50);
        }
    }

    /// <summary>The agent running in the background, and each identity it holds as it comes.</summary>
    private sealed class AgentRun : IAsyncDisposable
    {
        private readonly BlockingCollection<string> _serials = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly AgentHarness _device;
        private Task _run = Task.CompletedTask;

        private AgentRun(AgentHarness device) => _device = device;

        public bool Stopped => _run.IsCompleted;

        public static AgentRun Start(AgentHarness device, AgentOptions options)
        {
            var run = new AgentRun(device);
            var agent = device.NewAgent(options);
            agent.IdentityReady += serial => run._serials.Add(serial);
            run._run = Task.Run(() => agent.RunAsync(run._stop.Token));
            return run;
        }

        /// <summary>The next identity other than <paramref name="not"/>.</summary>
        public async Task<string> NextSerialAsync(string? not, TimeSpan? timeout = null)
        {
            var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
            while (DateTime.UtcNow < until)
            {
                if (_serials.TryTake(out var serial, 50) && serial != not)
                {
                    return serial;
                }
                await Task.Yield();
                Assert.False(Stopped, $"The agent stopped. Log:\n{_device.Log}");
            }
            throw new TimeoutException($"No new identity. Log:\n{_device.Log}");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _run;
            }
            catch (OperationCanceledException)
            {
            }
            _stop.Dispose();
            _serials.Dispose();
        }
    }
}
