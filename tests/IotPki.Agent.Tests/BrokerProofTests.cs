using System.Globalization;
using IotPki.FirmwareSim;
using System.Text;
using IotPki.Agent.Tests.Infrastructure;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Agent.Tests;

/// <summary>The agent against the real MQTT broker: a new identity is proven by connecting with it, and the server's
/// renew command rotates the certificate.</summary>
public sealed class BrokerProofTests(ShortLivedServerFixture server) : IClassFixture<ShortLivedServerFixture>
{
    [Fact]
    public async Task The_first_identity_is_proven_by_a_broker_connection_with_the_device_id_as_client_id()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-mqtt-01");

        var serial = await device.RunUntilReadyAsync(device.Options(broker: true));

        using var identity = device.AssertUsableIdentity();
        Assert.Equal(serial, identity.Serial);
        Assert.True(device.Log.Contains($"New certificate {serial} proven by a broker connection"), device.Log.ToString());
    }

    [Theory]
    [InlineData("agent-mqtt-02", false)]
    [InlineData("agent-mqtt-03", true)]
    public async Task A_renew_command_rotates_the_certificate_and_the_new_one_connects_before_the_old_one_is_retired(string deviceId, bool fromOperatorApi)
    {
        using var device = await AgentHarness.CreateAsync(server, deviceId);
        var agent = device.NewAgent(device.Options(broker: true));
        var ready = new List<string>();
        var first = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        agent.IdentityReady += serial =>
        {
            first.TrySetResult(serial);
            if (serial != first.Task.Result)
            {
                second.TrySetResult(serial);
            }
        };
        using var stop = new CancellationTokenSource();
        var run = agent.RunAsync(stop.Token);
        var before = await first.Task.WaitAsync(TimeSpan.FromSeconds(30));

        if (fromOperatorApi)
        {
            // The server publishes the command: POST /api/v1/devices/{id}/renew.
            using var admin = await OperatorClient.IssueAsync(server, "agent-renewer", OperatorRole.Admin);
            using var api = OperatorClient.Create(server, admin);
            using var response = await OperatorClient.PostJsonAsync(api, $"/api/v1/devices/{deviceId}/renew");
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        }
        else
        {
            // A back-end service publishes it.
            using var service = await OperatorClient.IssueAsync(server, "agent-commander", OperatorRole.Service);
            using var commander = await MqttTestClient.ConnectAsync(server, service, "agent-commander");
            var sent = await commander.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{deviceId}/commands/renew")
                .WithPayload(Encoding.UTF8.GetBytes("now")).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.True(sent.IsSuccess);
        }

        var after = await second.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);

        Assert.NotEqual(before, after);
        Assert.True(device.Log.Contains("on the server's renew command"), device.Log.ToString());
        Assert.True(device.Log.Contains($"New certificate {after} proven by a broker connection"), device.Log.ToString());
        using var identity = device.AssertUsableIdentity();
        Assert.Equal(after, identity.Serial);
        Assert.False(Directory.Exists(Path.Combine(device.StateDirectory, "identities", before)));
    }
}

public sealed class ClockSkewTests(ShortLivedServerFixture server) : IClassFixture<ShortLivedServerFixture>
{
    [Theory]
    [InlineData("agent-skew-ahead", 10)]
    [InlineData("agent-skew-behind", -10)]
    public async Task A_device_clock_ten_minutes_off_enrolls_connects_and_keeps_its_identity_across_a_restart(string deviceId, int minutes)
    {
        using var device = await AgentHarness.CreateAsync(server, deviceId);
        var clock = new SkewedClock(TimeSpan.FromMinutes(minutes));

        var first = await device.RunUntilReadyAsync(device.Options(renewalFraction: 0.9, broker: true), clock: clock);
        // Restarted with the same skew: judged on the server's time it learned and kept, the 3-minute certificate is
        // neither expired nor due for renewal, though by the device's own clock ten minutes fast it is both.
        var again = await device.RunUntilReadyAsync(device.Options(renewalFraction: 0.9, broker: true), clock: clock);

        Assert.Equal(first, again);
        Assert.False(device.Log.Contains("falling back to bootstrap"), device.Log.ToString());
        Assert.False(device.Log.Contains("renewal time reached"), device.Log.ToString());
        var learned = long.Parse(File.ReadAllText(Path.Combine(device.StateDirectory, ServerClock.OffsetFile)), CultureInfo.InvariantCulture);
        Assert.InRange(learned, -minutes * 60 - 3, -minutes * 60 + 3);
        using var identity = device.AssertUsableIdentity();
    }
}
