using System.Diagnostics;
using IotPki.Identity;
using IotPki.Server.Devices;
using IotPki.Server.Fleet;
using IotPki.Server.Hosting;
using IotPki.Server.Http;
using IotPki.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Server.Tests.Broker;

/// <summary>The one-second promise of live revocation, measured: from the revoke call to the client seeing its
/// connection closed, on the instance that revoked and on another instance sharing the database.</summary>
public sealed class RevocationLatencyTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_device_connected_to_another_instance_is_dropped_within_one_second_of_the_revoke_call()
    {
        using var local = await DeviceIdentity.EnrollAsync(server, "mq-latency-local");
        using var remote = await DeviceIdentity.EnrollAsync(server, "mq-latency-remote");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-latency-"));
        var secondPort = second.Services.GetRequiredService<ListenerEndpoints>().Get(ListenerEndpoints.Mqtt)!.Port;
        using var localClient = await MqttTestClient.ConnectAsync(server, local.Certificate, local.Id);
        using var remoteClient = await MqttTestClient.ConnectAsync(server, remote.Certificate, remote.Id, secondPort);

        var localElapsed = await RevokeAndTimeDropAsync(local.Id, MqttTestClient.Disconnected(localClient));
        var remoteElapsed = await RevokeAndTimeDropAsync(remote.Id, MqttTestClient.Disconnected(remoteClient));

        output.WriteLine($"revoke call -> disconnect seen by the client: same instance {localElapsed.TotalMilliseconds:F1} ms, other instance {remoteElapsed.TotalMilliseconds:F1} ms");
        Assert.True(localElapsed < TimeSpan.FromSeconds(1), $"same instance: {localElapsed.TotalMilliseconds} ms");
        Assert.True(remoteElapsed < TimeSpan.FromSeconds(1), $"other instance: {remoteElapsed.TotalMilliseconds} ms");
        await second.StopAsync();
    }

    private async Task<TimeSpan> RevokeAndTimeDropAsync(string deviceId, Task dropped)
    {
        var clock = Stopwatch.StartNew();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<DeviceLifecycle>()
                .RevokeAsync(DeviceId.Parse(deviceId), 1, "test", null, CancellationToken.None);
            Assert.NotNull(result);
        }
        // Wait well past the promise so that a slow drop is measured and reported, not just timed out.
        await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        return clock.Elapsed;
    }
}
