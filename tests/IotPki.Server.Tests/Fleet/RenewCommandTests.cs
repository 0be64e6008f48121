using System.Net;
using System.Text;
using System.Text.Json;
using IotPki.Server.Hosting;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Fleet;

/// <summary><c>POST /api/v1/devices/{id}/renew</c>: the server publishes the renew command to the device's agent, on
/// whichever instance holds its MQTT session.</summary>
public sealed class RenewCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_renew_call_on_one_instance_reaches_the_device_connected_to_another()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "renew-cmd-01");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var secondMqtt = second.Services.GetRequiredService<ListenerEndpoints>().Get(ListenerEndpoints.Mqtt)!.Port;
        using var session = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id, secondMqtt);
        var received = new TaskCompletionSource<MqttApplicationMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await session.SubscribeAsync("devices/renew-cmd-01/commands/renew", MqttQualityOfServiceLevel.AtLeastOnce);
        using var admin = await OperatorClient.IssueAsync(server, "renewer", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        await WaitUntilOnlineAsync("renew-cmd-01");

        using var response = await OperatorClient.PostJsonAsync(api, "/api/v1/devices/renew-cmd-01/renew");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using (var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("devices/renew-cmd-01/commands/renew", body.RootElement.GetProperty("topic").GetString());
            Assert.True(body.RootElement.GetProperty("online").GetBoolean());
        }
        var message = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("devices/renew-cmd-01/commands/renew", message.Topic);
        Assert.Equal(MqttQualityOfServiceLevel.AtLeastOnce, message.QualityOfServiceLevel);
        using (var payload = JsonDocument.Parse(Encoding.UTF8.GetString(message.Payload)))
        {
            Assert.Equal("renew", payload.RootElement.GetProperty("command").GetString());
            Assert.Equal("operator:renewer", payload.RootElement.GetProperty("requestedBy").GetString());
        }
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'device.renew-requested' AND \"DeviceId\" = $1 AND \"Actor\" = 'operator:renewer'", "renew-cmd-01"));
        await session.DisconnectAsync();
        await second.StopAsync();
    }

    [Fact]
    public async Task Mosquitto_sub_as_the_device_receives_the_renew_command_the_admin_cli_asks_for()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "renew-cmd-02");
        var auth = await AdminCli.CredentialsAsync(server, "renewer-cli", OperatorRole.Admin);

        var subscriber = ChildProcess.RunAsync("mosquitto_sub",
            ["-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "--cert", device.CertPath, "--key", device.KeyPath,
             "-i", "renew-cmd-02", "-t", "devices/renew-cmd-02/commands/renew", "-C", "1", "-W", "20", "-v"], timeout: TimeSpan.FromSeconds(30));
        // The command is not retained: ask until the subscriber, once subscribed, has it.
        for (var i = 0; i < 40 && !subscriber.IsCompleted; i++)
        {
            var cli = await AdminCli.RunAsync(["devices", "renew", "renew-cmd-02", .. auth]);
            Assert.True(cli.Exit == 0, cli.Out + cli.Err);
            Assert.Contains("renew: renew-cmd-02", cli.Out);
            await Task.WhenAny(subscriber, Task.Delay(500));
        }
        var received = await subscriber;

        Assert.True(received.ExitCode == 0, received.Stderr);
        Assert.StartsWith("devices/renew-cmd-02/commands/renew {\"command\":\"renew\"", received.Stdout.Trim());
    }

    [Fact]
    public async Task Renewing_an_unknown_or_inactive_device_is_a_problem_and_a_viewer_may_not()
    {
        await server.RegisterAsync("renew-cmd-03");
        using var device = await DeviceIdentity.EnrollAsync(server, "renew-cmd-04");
        using var admin = await OperatorClient.IssueAsync(server, "renewer-bad", OperatorRole.Admin);
        using var viewer = await OperatorClient.IssueAsync(server, "renew-viewer", OperatorRole.Viewer);
        using var api = OperatorClient.Create(server, admin);
        using var viewerApi = OperatorClient.Create(server, viewer);

        using var unknown = await OperatorClient.PostJsonAsync(api, "/api/v1/devices/no-such-device/renew");
        using var notEnrolled = await OperatorClient.PostJsonAsync(api, "/api/v1/devices/renew-cmd-03/renew");
        using var forbidden = await OperatorClient.PostJsonAsync(viewerApi, "/api/v1/devices/renew-cmd-04/renew");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("unknown_device", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, notEnrolled.StatusCode);
        Assert.Contains("wrong_state", await notEnrolled.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'device.renew-requested' AND \"DeviceId\" IN ('renew-cmd-03', 'renew-cmd-04')"));
    }

    private async Task WaitUntilOnlineAsync(string deviceId)
    {
        for (var i = 0; i < 100 && !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = $1", deviceId); i++)
        {
            await Task.Delay(50);
        }
    }
}
