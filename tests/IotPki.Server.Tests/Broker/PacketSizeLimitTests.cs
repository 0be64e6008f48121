using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Broker;

/// <summary><c>Broker:MaxPacketBytes</c>: a packet above the limit closes the connection before it is buffered, and is
/// audited; packets below it pass.</summary>
public sealed class PacketSizeLimitTests(PacketSizeLimitTests.Fixture server) : IClassFixture<PacketSizeLimitTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:MaxPacketBytes"] = "4096",
            ["Broker:MaxPayloadBytes"] = "65536",
        };
    }

    [Fact]
    public async Task A_packet_above_the_limit_closes_the_connection_and_is_audited_while_smaller_ones_pass()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-big-talker");
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        var dropped = MqttTestClient.Disconnected(client);

        var small = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/mq-big-talker/telemetry")
            .WithPayload(new byte[3000]).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(small.IsSuccess);
        Assert.True(client.IsConnected);

        try
        {
            await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/mq-big-talker/telemetry")
                .WithPayload(new byte[5000]).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // The server closed the connection under the publish.
        }

        await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(client.IsConnected);
        for (var i = 0; i < 100 && await RefusalsAsync() == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1L, await RefusalsAsync());
    }

    private Task<long> RefusalsAsync() => server.Database.ScalarAsync<long>(
        "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE 'packet_too_large:%' AND \"DeviceId\" = 'mq-big-talker'");
}
