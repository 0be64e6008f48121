using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Broker;

/// <summary><c>Broker:AuditRowsPerMinute</c>: a device looping on a forbidden topic is refused every time, but writes
/// at most that many audit rows per minute; its session stays up.</summary>
public sealed class RefusalAuditThrottleTests(RefusalAuditThrottleTests.Fixture server) : IClassFixture<RefusalAuditThrottleTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:AuditRowsPerMinute"] = "5",
        };
    }

    [Fact]
    public async Task Forty_refused_publishes_are_all_refused_and_write_five_audit_rows()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-looper");
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);

        for (var i = 0; i < 40; i++)
        {
            var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/someone-else/telemetry")
                .WithPayload("x").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        }
        var own = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/mq-looper/telemetry")
            .WithPayload("ok").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.True(own.IsSuccess);
        Assert.True(client.IsConnected);
        for (var i = 0; i < 100 && await RowsAsync() < 5; i++)
        {
            await Task.Delay(50);
        }
        await Task.Delay(500); // anything beyond the limit would have been written by now
        Assert.Equal(5L, await RowsAsync());
        await client.DisconnectAsync();
    }

    private Task<long> RowsAsync() => server.Database.ScalarAsync<long>(
        "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE 'publish_not_allowed:%' AND \"DeviceId\" = 'mq-looper'");
}
