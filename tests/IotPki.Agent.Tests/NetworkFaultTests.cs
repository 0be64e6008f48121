using System.Text.RegularExpressions;
using IotPki.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary>The network between the device and the service drops: the agent says so once per failure, waits longer
/// each time, and carries on when the network is back.</summary>
public sealed partial class NetworkFaultTests(ShortLivedServerFixture server, ITestOutputHelper output) : IClassFixture<ShortLivedServerFixture>
{
    [Fact]
    public async Task While_EST_is_unreachable_the_agent_backs_off_with_a_log_line_per_failure_then_enrolls()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-netdown-est");
        await using var relay = new TcpRelay(server.EstBase.Port, up: false);
        var options = device.Options(broker: true);
        options.EstUrl = new UriBuilder(server.EstBase) { Port = relay.Port }.Uri;

        var running = device.RunUntilReadyAsync(options, timeout: TimeSpan.FromSeconds(60));
        await WaitForAsync(() => relay.Dropped >= 4, device);
        relay.Up();
        await running;

        var failures = device.Log.Lines.Where(l => l.Contains("EST simpleenroll failed", StringComparison.Ordinal)).ToList();
        Assert.True(failures.Count >= 3, device.Log.ToString());
        failures.ForEach(output.WriteLine);
        var delays = failures.Select(RetryDelay).ToList();
        Assert.True(delays[2] > delays[0], $"the waits should grow: {string.Join(", ", delays)}");
        using var identity = device.AssertUsableIdentity();
    }

    [Fact]
    public async Task While_the_broker_is_unreachable_the_agent_backs_off_then_proves_its_new_identity()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-netdown-mqtt");
        await using var relay = new TcpRelay(server.MqttPort, up: false);
        var options = device.Options(broker: true);
        options.BrokerUrl = new Uri($"mqtts://localhost:{relay.Port}");

        var running = device.RunUntilReadyAsync(options, timeout: TimeSpan.FromSeconds(60));
        await WaitForAsync(() => relay.Dropped >= 3, device);
        relay.Up();
        var serial = await running;

        Assert.True(device.Log.Lines.Count(l => l.Contains("Cannot prove the new certificate", StringComparison.Ordinal)) >= 2, device.Log.ToString());
        Assert.True(device.Log.Contains($"New certificate {serial} proven by a broker connection"), device.Log.ToString());
        using var identity = device.AssertUsableIdentity();
        Assert.Equal(serial, identity.Serial);
    }

    [Fact]
    public async Task A_broker_that_resets_connections_before_TLS_does_not_send_the_agent_to_EST_however_often_it_retries()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-turned-away");
        var enrolled = await device.RunUntilReadyAsync(device.Options(broker: true));
        await using var relay = new TcpRelay(server.MqttPort, up: false);
        var options = device.Options(broker: true);
        options.BrokerUrl = new Uri($"mqtts://localhost:{relay.Port}");

        // A broker turning a reconnect storm away (or an instance going down) resets before TLS, again and again.
        var running = device.RunUntilReadyAsync(options, timeout: TimeSpan.FromSeconds(90));
        await WaitForAsync(() => relay.Dropped >= 11, device);
        relay.Up();
        var connected = await running;

        Assert.Equal(enrolled, connected);
        Assert.DoesNotContain(device.Log.Lines, l => l.Contains("asking EST for a new certificate", StringComparison.Ordinal));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM certificates WHERE \"DeviceId\" = 'agent-turned-away'"));
    }

    private static async Task WaitForAsync(Func<bool> condition, AgentHarness device)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(condition(), "the agent did not retry:\n" + device.Log);
    }

    private static double RetryDelay(string line) => double.Parse(RetryIn().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"retrying in (\d+\.\d+) s")]
    private static partial Regex RetryIn();
}
