using IotPki.Identity;
using IotPki.Server.Devices;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Broker;

/// <summary>A device that reconnects while its old connection is still open (a network drop the broker has not seen
/// yet) takes the session over: the old connection is closed, and the device stays online and revocable.</summary>
public sealed class SessionTakeoverTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private Task<bool> OnlineAsync(string id) =>
        server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", id);

    [Fact]
    public async Task A_reconnect_that_takes_the_session_over_leaves_the_device_online_and_revocation_still_closes_it()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-takeover");
        using var first = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        var firstDropped = MqttTestClient.Disconnected(first);
        await WaitForAsync(() => OnlineAsync(device.Id));

        using var second = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        await firstDropped.WaitAsync(TimeSpan.FromSeconds(10));
        // Presence writes are queued; give the writer time to apply anything the takeover queued.
        var offlineSeen = await WaitForAsync(async () => !await OnlineAsync(device.Id), attempts: 20);

        Assert.False(offlineSeen, "the takeover marked the device offline while its new session is up");
        Assert.True(second.IsConnected);

        var secondDropped = MqttTestClient.Disconnected(second);
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IotPki.Server.Devices.DeviceLifecycle>()
                .RevokeAsync(DeviceId.Parse(device.Id), 1, "test", null, CancellationToken.None);
        }
        await secondDropped.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, int attempts = 100)
    {
        for (var i = 0; i < attempts; i++)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }
}
