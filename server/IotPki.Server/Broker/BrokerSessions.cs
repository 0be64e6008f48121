using System.Collections.Concurrent;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace IotPki.Server.Broker;

/// <summary>The live sessions of this instance by certificate serial, so that a revocation can close them.</summary>
public sealed class BrokerSessions
{
    private readonly ConcurrentDictionary<string, string> _clientBySerial = new();
    private MqttServer? _server;

    public void Attach(MqttServer server) => _server = server;

    public void Add(string serial, string clientId) => _clientBySerial[serial] = clientId;

    public void Remove(string serial, string clientId) =>
        _clientBySerial.TryRemove(KeyValuePair.Create(serial, clientId));

    /// <summary>Closes the sessions of these serials and of this device id (its client id), if connected here.</summary>
    public async Task CloseAsync(IEnumerable<string> serials, string? deviceId)
    {
        if (_server is null)
        {
            return;
        }
        var clientIds = serials.Select(s => _clientBySerial.TryGetValue(s, out var c) ? c : null).OfType<string>().ToHashSet();
        if (deviceId is not null)
        {
            clientIds.Add(deviceId);
        }
        var connected = (await _server.GetClientsAsync()).Select(c => c.Id).ToHashSet();
        foreach (var clientId in clientIds.Where(connected.Contains))
        {
            await _server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions
            {
                ReasonCode = MqttDisconnectReasonCode.AdministrativeAction,
                ReasonString = "certificate revoked",
            });
        }
    }
}
