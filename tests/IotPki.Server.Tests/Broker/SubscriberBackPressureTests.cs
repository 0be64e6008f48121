using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using IotPki.Server.Broker;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Broker;

/// <summary>A subscriber that reads slower than its publisher slows the publisher instead of losing messages; a
/// subscriber that stops reading altogether holds nobody back for longer than the broker's stall time. The reader is a
/// real <c>mosquitto_sub</c>, frozen with SIGSTOP so that its socket is read no more, as with a hung consumer.</summary>
public sealed class SubscriberBackPressureTests(SubscriberBackPressureTests.Fixture server) : IClassFixture<SubscriberBackPressureTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        // A small queue, so that a few socket buffers' worth of messages fill it.
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Broker:MaxPendingMessagesPerClient"] = "20",
            ["Broker:StalledSubscriberAfter"] = "00:00:10",
        };
    }

    private const int Messages = 800;
    private static readonly byte[] Payload = new byte[64 * 1024];

    [Fact]
    public async Task A_subscriber_that_falls_behind_gets_every_QoS_0_message_and_the_publisher_waits_for_it()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "bp-publisher");
        var backPressure = server.Services.GetRequiredService<SubscriberBackPressure>();
        using var reader = await FrozenReaderAsync("bp-slow-reader", $"-C {Messages}");
        try
        {
            var dropsBefore = await DroppedAsync();
            var waitsBefore = backPressure.Waits;
            using var publisher = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
            var publishing = PublishAsync(publisher, device.Id, Messages);

            // The frozen reader's socket fills, then its queue: the publisher is held (bounded: a hang fails here).
            for (var i = 0; i < 600 && backPressure.Waits == waitsBefore; i++)
            {
                await Task.Delay(50);
            }
            Assert.True(backPressure.Waits > waitsBefore, "the publisher was never held back");
            Assert.False(publishing.IsCompleted, "the publisher finished while its only reader was frozen");

            // The reader wakes up within the stall time and reads everything: nothing was dropped.
            Assert.Equal(0, (await ChildProcess.RunAsync("kill", ["-CONT", reader.Process.Id.ToString()])).ExitCode);
            await publishing.WaitAsync(TimeSpan.FromMinutes(2));
            await reader.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Equal(Messages, reader.PayloadLines(Payload.Length));
            Assert.Equal(dropsBefore, await DroppedAsync());
        }
        finally
        {
            reader.Stop();
        }
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_does_not_hold_its_publisher_for_good()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "bp-publisher-2");
        using var reader = await FrozenReaderAsync("bp-stuck-reader", "");
        try
        {
            var dropsBefore = await DroppedAsync();
            using var publisher = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id);
            var publishing = PublishAsync(publisher, device.Id, Messages);

            // Bounds a hang only: the broker stops waiting for the frozen reader after its stall time (10 s here).
            var last = await publishing.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(last.IsSuccess, last.ReasonString);
            Assert.True(publisher.IsConnected);
            Assert.True(await DroppedAsync() > dropsBefore, "the frozen reader's full queue dropped nothing: it was never full");
        }
        finally
        {
            reader.Stop();
        }
    }

    /// <summary>QoS 0 messages, then one QoS 1 publish: its PUBACK comes only once the broker has dispatched everything
    /// before it.</summary>
    private static Task<MqttClientPublishResult> PublishAsync(IMqttClient publisher, string deviceId, int count) => Task.Run(async () =>
    {
        for (var i = 0; i < count; i++)
        {
            await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{deviceId}/telemetry")
                .WithPayload(Payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());
        }
        return await publisher.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{deviceId}/telemetry")
            .WithPayload("last"u8.ToArray()).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
    });

    private sealed class Reader(Process process) : IDisposable
    {
        public Process Process => process;
        public List<string> Lines { get; } = [];

        /// <summary>Lines printing a received payload's length (<c>-F %l</c>): one per message read.</summary>
        public int PayloadLines(int length)
        {
            lock (Lines)
            {
                return Lines.Count(l => l == length.ToString());
            }
        }

        public void Stop()
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        public void Dispose() => process.Dispose();
    }

    /// <summary>A service's mosquitto_sub on devices/+/telemetry, QoS 0, frozen with SIGSTOP once subscribed.</summary>
    private async Task<Reader> FrozenReaderAsync(string name, string extraArguments)
    {
        using var service = await OperatorClient.IssueAsync(server, name, OperatorRole.Service);
        var dir = server.TempDirectory($"{name}-");
        TestPki.WritePem(service, Path.Combine(dir, "svc.pem"), Path.Combine(dir, "svc.key"));
        // stdbuf: its lines arrive as written, not when a pipe buffer fills.
        var start = new ProcessStartInfo("stdbuf",
            ["-oL", "mosquitto_sub", "-h", "localhost", "-p", server.MqttPort.ToString(), "--cafile", server.CaBundlePath,
             "--cert", Path.Combine(dir, "svc.pem"), "--key", Path.Combine(dir, "svc.key"), "-i", name, "-t", "devices/+/telemetry",
             "-V", "mqttv5", "-d", "-F", "%l", .. extraArguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var reader = new Reader(Process.Start(start)!);
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lock (reader.Lines)
            {
                reader.Lines.Add(e.Data);
            }
            if (e.Data.Contains("received SUBACK", StringComparison.Ordinal))
            {
                subscribed.TrySetResult();
            }
        };
        reader.Process.BeginOutputReadLine();
        reader.Process.BeginErrorReadLine();
        await subscribed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await ChildProcess.RunAsync("kill", ["-STOP", reader.Process.Id.ToString()])).ExitCode);
        return reader;
    }

    private async Task<long> DroppedAsync()
    {
        using var viewer = await OperatorClient.IssueAsync(server, $"bp-viewer-{Guid.NewGuid():N}"[..20], OperatorRole.Viewer);
        using var api = OperatorClient.Create(server, viewer);
        var broker = await api.GetFromJsonAsync<JsonElement>("/api/v1/broker");
        return broker.GetProperty("messagesDropped").GetInt64();
    }
}
