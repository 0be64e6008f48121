using System.Net;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Broker;

/// <summary>Suspension through the operator API bars a device from the broker (its live session is closed, its
/// reconnects refused) until it is reinstated; its certificate is not revoked, so it connects again afterwards.</summary>
public sealed class SuspensionTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_suspended_device_is_dropped_and_refused_and_connects_again_once_reinstated()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-suspended");
        using var admin = await OperatorClient.IssueAsync(server, "mq-suspender", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        var dropped = MqttTestClient.Disconnected(client);

        using (var suspend = await api.PostAsync("/api/v1/devices/mq-suspended/suspend", null))
        {
            Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        }
        await dropped.WaitAsync(TimeSpan.FromSeconds(5));
        using (var refused = new MqttClientFactory().CreateMqttClient())
        {
            await Assert.ThrowsAnyAsync<Exception>(() => refused.ConnectAsync(MqttTestClient.Options(server, device.Certificate, device.Id)));
        }

        using (var reinstate = await api.PostAsync("/api/v1/devices/mq-suspended/reinstate", null))
        {
            Assert.Equal(HttpStatusCode.OK, reinstate.StatusCode);
        }
        using var again = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        Assert.True(again.IsConnected);
        await again.DisconnectAsync();
    }
}
