using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Broker;

/// <summary>MQTT 3.1.1 (mosquitto clients' default protocol): the same identity rules as MQTT 5.</summary>
public sealed class Mqtt311Tests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string[] Tls(string cert, string key) =>
        ["-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "--cert", cert, "--key", key, "-V", "mqttv311"];

    private Task<long> RefusalsAsync(string deviceId) => server.Database.ScalarAsync<long>(
        "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE 'subscribe_not_allowed:%' AND \"DeviceId\" = $1", deviceId);

    [Fact]
    public async Task A_device_publishes_over_MQTT_3_1_1_to_a_service_subscribed_over_MQTT_3_1_1()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq311-dev");
        using var service = await OperatorClient.IssueAsync(server, "mq311-reader", OperatorRole.Service);
        using var serviceFiles = DeviceIdentity.FromCertificate("mq311-reader", service);

        var subscriber = ChildProcess.RunAsync("mosquitto_sub",
            [.. Tls(serviceFiles.CertPath, serviceFiles.KeyPath), "-i", "mq311-reader", "-t", "devices/+/telemetry", "-C", "1", "-W", "20", "-v"],
            timeout: TimeSpan.FromSeconds(30));
        for (var i = 0; i < 40 && !subscriber.IsCompleted; i++)
        {
            var publish = await ChildProcess.RunAsync("mosquitto_pub",
                [.. Tls(device.CertPath, device.KeyPath), "-i", "mq311-dev", "-t", "devices/mq311-dev/telemetry", "-m", "v311", "-q", "1"]);
            Assert.True(publish.ExitCode == 0, publish.Stderr);
            await Task.WhenAny(subscriber, Task.Delay(250));
        }
        var received = await subscriber;

        Assert.True(received.ExitCode == 0, received.Stderr);
        Assert.Equal("devices/mq311-dev/telemetry v311", received.Stdout.Trim());
    }

    [Fact]
    public async Task A_device_subscribing_to_every_device_over_MQTT_3_1_1_is_refused()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq311-nosy");

        var run = await ChildProcess.RunAsync("mosquitto_sub",
            [.. Tls(device.CertPath, device.KeyPath), "-i", "mq311-nosy", "-t", "devices/#", "-C", "1", "-W", "3", "-v"], timeout: TimeSpan.FromSeconds(20));

        Assert.Contains("All subscription requests were denied", run.Stderr);
        Assert.Equal("", run.Stdout);
        for (var i = 0; i < 100 && await RefusalsAsync("mq311-nosy") == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1L, await RefusalsAsync("mq311-nosy"));
    }

    [Fact]
    public async Task An_empty_client_id_over_MQTT_3_1_1_is_rejected_with_an_audited_reason()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq311-random");

        var run = await ChildProcess.RunAsync("mosquitto_pub", [.. Tls(device.CertPath, device.KeyPath), "-t", "devices/mq311-random/telemetry", "-m", "x"]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("identifier rejected", run.Stderr);
        for (var i = 0; i < 100 && await ClientIdRefusalsAsync("mq311-random") == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1L, await ClientIdRefusalsAsync("mq311-random"));
    }

    private Task<long> ClientIdRefusalsAsync(string deviceId) => server.Database.ScalarAsync<long>(
        "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE 'client_id_required:%' AND \"DeviceId\" = $1", deviceId);
}
