using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.Server.Tests.Renewal;

/// <summary>A device's MQTT session that listens on its renew topic, as the agent does, and keeps every command.</summary>
public sealed class CommandListener : IDisposable
{
    private readonly TaskCompletionSource<JsonDocument> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CommandListener(IMqttClient client) => Client = client;

    public IMqttClient Client { get; }
    public ConcurrentQueue<JsonDocument> Commands { get; } = new();
    public Task<JsonDocument> First => _first.Task;

    public static async Task<CommandListener> ConnectAsync(ServerFixture server, X509Certificate2 certificate, string deviceId, int? port = null)
    {
        var listener = new CommandListener(await MqttTestClient.ConnectAsync(server, certificate, deviceId, port));
        listener.Client.ApplicationMessageReceivedAsync += e =>
        {
            var command = JsonDocument.Parse(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload));
            listener.Commands.Enqueue(command);
            listener._first.TrySetResult(command);
            return Task.CompletedTask;
        };
        await listener.Client.SubscribeAsync($"devices/{deviceId}/commands/renew", MqttQualityOfServiceLevel.AtLeastOnce);
        return listener;
    }

    public void Dispose() => Client.Dispose();
}
