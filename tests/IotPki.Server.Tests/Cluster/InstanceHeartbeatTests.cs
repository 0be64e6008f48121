using IotPki.Server.Broker;
using IotPki.Server.Cluster;
using IotPki.Server.Http;
using IotPki.Server.Tests.Infrastructure;
using IotPki.Server.Tests.Renewal;
using MQTTnet;

namespace IotPki.Server.Tests.Cluster;

/// <summary>Presence the planner can trust: each online device names the instance holding its session; an instance that
/// stops beating has its devices marked offline by the others; a late disconnect on an old instance does not take
/// offline a device that has moved on; and a device whose instance went away is asked to renew through the one it
/// reconnects to.</summary>
public sealed class InstanceHeartbeatTests(InstanceHeartbeatTests.Fixture server) : IClassFixture<InstanceHeartbeatTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Cluster:HeartbeatInterval"] = "00:00:01",
        };
    }

    [Fact]
    public async Task The_devices_of_an_instance_that_stopped_beating_are_marked_offline_by_the_others()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "orphan-0001");
        var dead = Guid.NewGuid();
        await server.Database.ExecuteAsync(
            "INSERT INTO server_instances (\"Id\", \"Host\", \"StartedAt\", \"HeartbeatAt\") VALUES ($1, 'gone', now() - interval '1 hour', now() - interval '1 minute')", dead);
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE devices SET \"Online\" = true, \"InstanceId\" = $1 WHERE \"Id\" = $2", dead, device.Id));

        await WaitAsync(async () => !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", device.Id));

        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM server_instances WHERE \"Id\" = $1", dead));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM server_instances WHERE \"Id\" = $1",
            server.Services.GetRequiredService<ClusterInstance>().Id));
    }

    [Fact]
    public async Task A_late_disconnect_on_the_old_instance_leaves_online_a_device_that_moved_to_another()
    {
        using var moved = await DeviceIdentity.EnrollAsync(server, "mover-0001");
        using var stayed = await DeviceIdentity.EnrollAsync(server, "stayer-0001");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var secondMqtt = second.Services.GetRequiredService<ListenerEndpoints>().Get(ListenerEndpoints.Mqtt)!.Port;
        using var onSecond = await MqttTestClient.ConnectAsync(server, moved.Certificate, moved.Id, secondMqtt);
        using var onFirst = await MqttTestClient.ConnectAsync(server, stayed.Certificate, stayed.Id);
        await WaitAsync(async () => await server.Database.ScalarAsync<Guid?>("SELECT \"InstanceId\" FROM devices WHERE \"Id\" = $1", moved.Id)
            == second.Services.GetRequiredService<ClusterInstance>().Id);

        // The first instance hears of a disconnect of the moved device late, beside a real one of its own device.
        var presence = server.Services.GetRequiredService<Presence>();
        presence.Disconnected(IotPki.Identity.DeviceId.Parse(moved.Id));
        await onFirst.DisconnectAsync();
        await WaitAsync(async () => !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", stayed.Id));

        Assert.True(await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", moved.Id));
        await onSecond.DisconnectAsync();
        await second.StopAsync();
    }

    [Fact]
    public async Task A_device_whose_instance_went_away_is_asked_to_renew_through_the_one_it_reconnects_to()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "roamer-0001");
        var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var secondMqtt = second.Services.GetRequiredService<ListenerEndpoints>().Get(ListenerEndpoints.Mqtt)!.Port;
        using (var there = await CommandListener.ConnectAsync(server, device.Certificate, device.Id, secondMqtt))
        {
            await WaitAsync(() => server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", device.Id));
            var dropped = MqttTestClient.Disconnected(there.Client);
            await second.StopAsync();
            await second.DisposeAsync();
            await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(1, await server.Database.ExecuteAsync(
            "UPDATE device_renewals SET \"SlotAt\" = now() - interval '1 second' WHERE \"DeviceId\" = $1", device.Id));

        using var here = await CommandListener.ConnectAsync(server, device.Certificate, device.Id);

        using var command = await here.First.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("renew", command.RootElement.GetProperty("command").GetString());
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "the condition did not come true");
            await Task.Delay(50);
        }
    }
}
