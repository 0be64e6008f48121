using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using IotPki.Server.Broker;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Broker;

/// <summary>A subscriber slower than its publisher slows the publisher instead of losing messages; a subscriber that
/// stops reading altogether holds nobody back for longer than the broker's stall time.</summary>
public sealed class SubscriberBackPressureTests(SubscriberBackPressureTests.Fixture server) : IClassFixture<SubscriberBackPressureTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        // A small queue, so that a few socket buffers' worth of messages fill it.
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:MaxPendingMessagesPerClient"] = "20",
            ["Broker:StalledSubscriberAfter"] = "00:00:03",
        };
    }

    private const int Messages = 400;
    private static readonly byte[] Payload = new byte[16 * 1024];

    [Fact]
    public async Task A_slow_subscriber_gets_every_QoS_0_message_and_the_publisher_is_slowed_instead()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "bp-publisher");
        using var service = await OperatorClient.IssueAsync(server, "bp-slow-reader", OperatorRole.Service);
        using var subscriber = await MqttTestClient.ConnectAsync(server, service, "bp-slow-reader");
        var received = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.ApplicationMessageReceivedAsync += async _ =>
        {
            await Task.Delay(2); // reads far slower than the publisher writes
            if (Interlocked.Increment(ref received) == Messages)
            {
                all.TrySetResult();
            }
        };
        await subscriber.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/+/telemetry", MqttQualityOfServiceLevel.AtMostOnce).Build());
        var dropsBefore = await DroppedAsync();
        var waitsBefore = server.Services.GetRequiredService<SubscriberBackPressure>().Waits;

        using var publisher = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
        for (var i = 0; i < Messages; i++)
        {
            await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{device.Id}/telemetry")
                .WithPayload(Payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());
        }

        await all.Task.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(Messages, received);
        Assert.Equal(dropsBefore, await DroppedAsync());
        Assert.True(server.Services.GetRequiredService<SubscriberBackPressure>().Waits > waitsBefore, "the publisher was never held back");
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_does_not_hold_its_publisher_for_good()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "bp-publisher-2");
        using var service = await OperatorClient.IssueAsync(server, "bp-stuck-reader", OperatorRole.Service);
        var dir = server.TempDirectory("bp-stuck-");
        TestPki.WritePem(service, Path.Combine(dir, "svc.pem"), Path.Combine(dir, "svc.key"));
        // mosquitto_sub, frozen with SIGSTOP once subscribed: its socket is read no more, as with a hung consumer.
        // (stdbuf: its debug lines arrive as written, not when a pipe buffer fills.)
        using var reader = Process.Start(new ProcessStartInfo("stdbuf",
            ["-oL", "mosquitto_sub", "-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath, "--cert", Path.Combine(dir, "svc.pem"),
             "--key", Path.Combine(dir, "svc.key"), "-i", "bp-stuck-reader", "-t", "devices/+/telemetry", "-V", "mqttv5", "-d", "-N"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("received SUBACK", StringComparison.Ordinal) == true)
            {
                subscribed.TrySetResult();
            }
        };
        reader.BeginOutputReadLine();
        reader.BeginErrorReadLine();
        try
        {
            await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, (await ChildProcess.RunAsync("kill", ["-STOP", reader.Id.ToString()])).ExitCode);
            var dropsBefore = await DroppedAsync();

            using var publisher = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
            var big = new byte[64 * 1024];
            var publishing = Task.Run(async () =>
            {
                for (var i = 0; i < Messages; i++)
                {
                    await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{device.Id}/telemetry")
                        .WithPayload(big).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());
                }
                // A QoS 1 publish is answered only once the broker has dispatched everything before it.
                return await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{device.Id}/telemetry")
                    .WithPayload("last"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
            });

            // Bounds a hang only: the broker stops waiting for the frozen reader after its stall time (3 s here).
            var last = await publishing.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(last.IsSuccess, last.ReasonString);
            Assert.True(publisher.IsConnected);
            Assert.True(await DroppedAsync() > dropsBefore, "the frozen reader's full queue dropped nothing: it was never full");
        }
        finally
        {
            reader.Kill();
        }
    }

    private async Task<long> DroppedAsync()
    {
        using var admin = OperatorClient.Create(server, await OperatorClient.IssueAsync(server, $"bp-admin-{Guid.NewGuid():N}"[..20], OperatorRole.Viewer));
        var broker = await admin.GetFromJsonAsync<JsonElement>("/api/v1/broker");
        return broker.GetProperty("messagesDropped").GetInt64();
    }
}
