using System.Text;
using IotPki.Identity;
using IotPki.Server.Devices;
using IotPki.Server.Fleet;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Broker;

/// <summary>The mTLS broker with real clients: mosquitto_pub / mosquitto_sub and MQTTnet.</summary>
public sealed class BrokerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string[] Tls(string cert, string key) =>
        ["-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "--cert", cert, "--key", key];

    private async Task<(string Cert, string Key)> ServiceFilesAsync(string name)
    {
        using var service = await OperatorClient.IssueAsync(server, name, OperatorRole.Service);
        var dir = server.TempDirectory($"iotpki-svc-{name}-");
        TestPki.WritePem(service, Path.Combine(dir, "svc.pem"), Path.Combine(dir, "svc.key"));
        return (Path.Combine(dir, "svc.pem"), Path.Combine(dir, "svc.key"));
    }

    private Task<long> RefusalsAsync(string reason) =>
        server.Database.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Detail\" LIKE $1", reason + ":%");

    private async Task AssertAuditedAsync(string reason)
    {
        // Broker refusals are written off the connection's path; give the writer a moment.
        for (var i = 0; i < 100 && await RefusalsAsync(reason) == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.True(await RefusalsAsync(reason) > 0, $"no audit row for {reason}");
    }

    [Fact]
    public async Task A_device_publishes_telemetry_with_mosquitto_pub_that_a_service_receives_with_mosquitto_sub()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-dev-01");
        var (svcCert, svcKey) = await ServiceFilesAsync("telemetry-reader");

        var subscriber = ChildProcess.RunAsync("mosquitto_sub",
            [.. Tls(svcCert, svcKey), "-i", "telemetry-reader", "-t", "devices/+/telemetry", "-C", "1", "-W", "20", "-v", "-V", "mqttv5"],
            timeout: TimeSpan.FromSeconds(30));
        ChildProcess.Result? publish = null;
        for (var i = 0; i < 40 && !subscriber.IsCompleted; i++)
        {
            publish = await ChildProcess.RunAsync("mosquitto_pub",
                [.. Tls(device.CertPath, device.KeyPath), "-i", "mq-dev-01", "-t", "devices/mq-dev-01/telemetry", "-m", "{\"temp\":21.5}", "-q", "1", "-V", "mqttv5"]);
            Assert.True(publish.ExitCode == 0, publish.Stderr);
            await Task.WhenAny(subscriber, Task.Delay(250));
        }
        var received = await subscriber;

        Assert.True(received.ExitCode == 0, received.Stderr);
        Assert.Contains("devices/mq-dev-01/telemetry {\"temp\":21.5}", received.Stdout);
    }

    [Fact]
    public async Task Presence_follows_connect_and_disconnect()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-presence");
        var client = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-presence");
        Assert.True(await WaitForAsync(() => server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = 'mq-presence'")));

        await client.DisconnectAsync();

        Assert.True(await WaitForAsync(async () => !await server.Database.ScalarAsync<bool>("SELECT \"Online\" FROM devices WHERE \"Id\" = 'mq-presence'")));
        Assert.True(await server.Database.ScalarAsync<bool>("SELECT \"LastSeenAt\" IS NOT NULL FROM devices WHERE \"Id\" = 'mq-presence'"));
        client.Dispose();
    }

    [Fact]
    public async Task Without_a_client_certificate_the_handshake_is_refused()
    {
        var run = await ChildProcess.RunAsync("mosquitto_pub",
            ["-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "-i", "anon", "-t", "devices/anon/telemetry", "-m", "x"]);

        Assert.NotEqual(0, run.ExitCode);
        await AssertAuditedAsync("no_client_certificate");
    }

    [Fact]
    public async Task A_self_signed_certificate_is_refused()
    {
        using var ca = TestPki.NewCa("Self Signed Device");
        using var selfSigned = TestPki.Device("mq-selfsigned").SignedBy(ca).Build();
        using var files = DeviceIdentity.FromCertificate("mq-selfsigned", System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(selfSigned.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null));

        var run = await ChildProcess.RunAsync("mosquitto_pub", [.. Tls(files.CertPath, files.KeyPath), "-i", "mq-selfsigned", "-t", "devices/mq-selfsigned/telemetry", "-m", "x"]);

        Assert.NotEqual(0, run.ExitCode);
        await AssertAuditedAsync("untrusted_certificate");
    }

    [Fact]
    public async Task A_bootstrap_certificate_is_refused()
    {
        await server.RegisterAsync("mq-bootstrap");
        using var boot = server.Bootstrap("mq-bootstrap");
        using var files = DeviceIdentity.FromCertificate("mq-bootstrap", System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(boot.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null));

        var run = await ChildProcess.RunAsync("mosquitto_pub", [.. Tls(files.CertPath, files.KeyPath), "-i", "mq-bootstrap", "-t", "devices/mq-bootstrap/telemetry", "-m", "x"]);

        Assert.NotEqual(0, run.ExitCode);
        await AssertAuditedAsync("untrusted_certificate");
    }

    [Fact]
    public async Task An_expired_operational_certificate_is_refused()
    {
        using var expired = DeviceIdentity.Expired(server, "mq-expired");

        var run = await ChildProcess.RunAsync("mosquitto_pub", [.. Tls(expired.CertPath, expired.KeyPath), "-i", "mq-expired", "-t", "devices/mq-expired/telemetry", "-m", "x"]);

        Assert.NotEqual(0, run.ExitCode);
        await AssertAuditedAsync("certificate_expired");
    }

    [Fact]
    public async Task An_operator_certificate_is_refused()
    {
        using var op = await OperatorClient.IssueAsync(server, "mq-operator", OperatorRole.Admin);
        var client = new MqttClientFactory().CreateMqttClient();

        await Assert.ThrowsAnyAsync<Exception>(() => client.ConnectAsync(MqttTestClient.Options(server, op, "mq-operator")));

        Assert.False(client.IsConnected);
        await AssertAuditedAsync("not_a_device_certificate");
    }

    [Fact]
    public async Task A_client_id_naming_another_device_is_refused()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-honest");
        var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(MqttTestClient.Options(server, device.Certificate, "mq-victim"));

        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, result.ResultCode);
        Assert.False(client.IsConnected);
        await AssertAuditedAsync("client_id_mismatch");
    }

    [Fact]
    public async Task An_empty_client_id_is_assigned_the_device_id()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-anonid");
        var client = new MqttClientFactory().CreateMqttClient();

        var result = await client.ConnectAsync(MqttTestClient.Options(server, device.Certificate, ""));

        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal("mq-anonid", result.AssignedClientIdentifier);
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task Publishing_to_another_device_and_subscribing_to_all_devices_are_refused_and_the_session_survives()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-nosy");
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-nosy");

        var foreign = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/someone-else/telemetry")
            .WithPayload("x").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var wildcard = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/#").Build());
        var sys = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("$SYS/#").Build());
        var own = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/mq-nosy/telemetry")
            .WithPayload("ok").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        var commands = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/mq-nosy/commands/#").Build());

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, foreign.ReasonCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, Assert.Single(wildcard.Items).ResultCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, Assert.Single(sys.Items).ResultCode);
        Assert.True(client.IsConnected);
        Assert.True(own.IsSuccess);
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS0, Assert.Single(commands.Items).ResultCode);
        await AssertAuditedAsync("publish_not_allowed");
        await AssertAuditedAsync("subscribe_not_allowed");
        await client.DisconnectAsync();
    }

    [Fact]
    public async Task A_service_gets_telemetry_while_subscribed_including_after_it_reconnects_under_the_same_client_id()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-listened");
        using var service = await OperatorClient.IssueAsync(server, "listener", OperatorRole.Service);
        using var deviceClient = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-listened");
        Task<MqttClientPublishResult> PublishAsync(string payload) => deviceClient.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("devices/mq-listened/telemetry").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        async Task<(IMqttClient Client, Task<string> First)> SubscribedServiceAsync()
        {
            var client = await MqttTestClient.ConnectAsync(server, service, "listener");
            var first = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            client.ApplicationMessageReceivedAsync += e =>
            {
                first.TrySetResult(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
                return Task.CompletedTask;
            };
            var granted = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/+/telemetry", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, Assert.Single(granted.Items).ResultCode);
            return (client, first.Task);
        }

        var unheard = await PublishAsync("nobody");
        Assert.True(unheard.IsSuccess);
        Assert.Equal(MqttClientPublishReasonCode.NoMatchingSubscribers, unheard.ReasonCode);

        var (first, firstHeard) = await SubscribedServiceAsync();
        var heard = await PublishAsync("one");
        Assert.Equal(MqttClientPublishReasonCode.Success, heard.ReasonCode);
        Assert.Equal("one", await firstHeard.WaitAsync(TimeSpan.FromSeconds(10)));

        // The same service connects again under its client id: the broker ends the first connection; the second hears.
        var firstGone = MqttTestClient.Disconnected(first);
        var (second, secondHeard) = await SubscribedServiceAsync();
        await firstGone.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(MqttClientPublishReasonCode.Success, (await PublishAsync("two")).ReasonCode);
        Assert.Equal("two", await secondHeard.WaitAsync(TimeSpan.FromSeconds(10)));

        await second.UnsubscribeAsync("devices/+/telemetry");
        Assert.Equal(MqttClientPublishReasonCode.NoMatchingSubscribers, (await PublishAsync("three")).ReasonCode);
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public async Task A_service_sends_a_command_that_only_its_device_receives()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-cmd-target");
        using var service = await OperatorClient.IssueAsync(server, "commander", OperatorRole.Service);
        using var deviceClient = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-cmd-target");
        using var serviceClient = await MqttTestClient.ConnectAsync(server, service, "commander");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        deviceClient.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult($"{e.ApplicationMessage.Topic} {Encoding.UTF8.GetString(e.ApplicationMessage.Payload)}");
            return Task.CompletedTask;
        };
        await deviceClient.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/mq-cmd-target/commands/#").Build());

        var sent = await serviceClient.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("devices/mq-cmd-target/commands/renew")
            .WithPayload("now").WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

        Assert.True(sent.IsSuccess);
        Assert.Equal("devices/mq-cmd-target/commands/renew now", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Revoking_a_connected_device_closes_its_session_and_refuses_its_reconnect()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-stolen");
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-stolen");
        var dropped = MqttTestClient.Disconnected(client);

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<DeviceLifecycle>().RevokeAsync(DeviceId.Parse("mq-stolen"), 1, "test", null, CancellationToken.None);
            Assert.Single(result!.Serials);
        }

        await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(client.IsConnected);
        var again = await ChildProcess.RunAsync("mosquitto_pub", [.. Tls(device.CertPath, device.KeyPath), "-i", "mq-stolen", "-t", "devices/mq-stolen/telemetry", "-m", "x"]);
        Assert.NotEqual(0, again.ExitCode);
        await AssertAuditedAsync("certificate_revoked");
    }

    [Fact]
    public async Task Revoking_through_one_instance_drops_the_device_connected_to_another()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "mq-roaming");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-second-"));
        var secondPort = second.Services.GetRequiredService<IotPki.Server.Http.ListenerEndpoints>().Get(IotPki.Server.Http.ListenerEndpoints.Mqtt)!.Port;
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, "mq-roaming", secondPort);
        var dropped = MqttTestClient.Disconnected(client);

        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DeviceLifecycle>().RevokeAsync(DeviceId.Parse("mq-roaming"), 1, "test", null, CancellationToken.None);
        }

        await dropped.WaitAsync(TimeSpan.FromSeconds(10));
        var reconnect = new MqttClientFactory().CreateMqttClient();
        await Assert.ThrowsAnyAsync<Exception>(() => reconnect.ConnectAsync(MqttTestClient.Options(server, device.Certificate, "mq-roaming", secondPort)));
        await second.StopAsync();
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
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
