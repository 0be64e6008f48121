using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Broker;

/// <summary><c>Broker:ConnectsPerSecond</c> / <c>ConnectBurst</c>: past the burst, connections are turned away before the
/// TLS handshake and audited; once the bucket refills, the device connects again.</summary>
public sealed class ConnectRateLimitTests(ConnectRateLimitTests.Fixture server) : IClassFixture<ConnectRateLimitTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:ConnectsPerSecond"] = "1",
            ["Broker:ConnectBurst"] = "3",
        };
    }

    [Fact]
    public async Task Connects_past_the_burst_are_refused_before_the_handshake_and_allowed_again_after_a_refill()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-stormy");
        var outcomes = new List<bool>();
        for (var i = 0; i < 8; i++)
        {
            outcomes.Add(await TryConnectAsync(device));
        }

        Assert.True(outcomes[0], "the first connect is within the burst");
        Assert.Contains(false, outcomes);
        Assert.InRange(outcomes.Count(ok => ok), 3, 5);
        for (var i = 0; i < 100 && await RefusalsAsync() == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.True(await RefusalsAsync() > 0);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.True(await TryConnectAsync(device), "after the bucket refilled");
    }

    private async Task<bool> TryConnectAsync(DeviceIdentity device)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        try
        {
            await client.ConnectAsync(MqttTestClient.Options(server, device.Certificate, device.Id));
            await client.DisconnectAsync();
            return true;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            return false;
        }
    }

    private Task<long> RefusalsAsync() => server.Database.ScalarAsync<long>(
        "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE 'connect_rate_exceeded:%'");
}
