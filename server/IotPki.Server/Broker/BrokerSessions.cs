using System.Collections.Concurrent;
using IotPki.Identity;
using IotPki.Server.Cluster;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace IotPki.Server.Broker;

/// <summary>The live sessions of this instance by certificate serial, so that a revocation can close them and a
/// device command can reach its device.</summary>
public sealed class BrokerSessions
{
    private readonly ConcurrentDictionary<string, string> _clientBySerial = new();
    private MqttServer? _server;

    public void Attach(MqttServer server) => _server = server;

    public void Add(string serial, string clientId) => _clientBySerial[serial] = clientId;

    public void Remove(string serial, string clientId) =>
        _clientBySerial.TryRemove(KeyValuePair.Create(serial, clientId));

    /// <summary>Closes every live session here whose certificate is revoked or whose device is barred in
    /// <paramref name="revoked"/>: after the listener was cut off from PostgreSQL, the notices it missed are found
    /// this way once the set is reloaded.</summary>
    public async Task CloseRevokedAsync(RevokedSet revoked)
    {
        if (_server is not { IsStarted: true })
        {
            return; // Not started yet (or stopping): no sessions to close.
        }
        // A device's client id is its device id (ConnectionValidator enforces it); a service's serial is checked alone.
        var barredDevices = (await _server.GetClientsAsync())
            .Where(c => c.Session.Items[BrokerIdentity.SessionKey] is BrokerIdentity { Device: { } d }
                && revoked.BarredState(d) is not null)
            .Select(c => c.Id);
        var serials = _clientBySerial.Where(p => revoked.IsRevoked(p.Key)).Select(p => p.Key).ToList();
        await CloseAsync(serials, null, barredDevices);
    }

    /// <summary>Closes the sessions of these serials and of this device id (its client id), if connected here.</summary>
    public Task CloseAsync(IEnumerable<string> serials, DeviceId? deviceId) => CloseAsync(serials, deviceId, []);

    private async Task CloseAsync(IEnumerable<string> serials, DeviceId? deviceId, IEnumerable<string> moreClientIds)
    {
        if (_server is not { IsStarted: true })
        {
            return; // Not started yet (or stopping): no sessions to close.
        }
        var clientIds = serials.Select(s => _clientBySerial.TryGetValue(s, out var c) ? c : null).OfType<string>().ToHashSet();
        if (deviceId is { } id)
        {
            clientIds.Add(id.Value);
        }
        clientIds.UnionWith(moreClientIds);
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

    /// <summary>The server's own identity on the broker: a service, so <see cref="TopicGuard"/> lets it publish commands.</summary>
    private static readonly BrokerIdentity ServerIdentity = BrokerIdentity.Service("", "iotpki-server");

    /// <summary>Publishes the command (QoS 1) if the device is connected to this instance; says whether it was.</summary>
    public async Task<bool> PublishCommandAsync(DeviceCommandNotice notice)
    {
        // A device's client id is its device id; the sessions here are already indexed, no need to list MQTTnet's clients.
        if (_server is not { IsStarted: true } || !_clientBySerial.Values.Contains(notice.DeviceId.Value))
        {
            return false;
        }
        var message = new MqttApplicationMessageBuilder().WithTopic(notice.Topic).WithPayload(notice.Payload())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message)
        {
            SenderClientId = ServerIdentity.Name,
            CustomSessionItems = new Dictionary<object, object> { [BrokerIdentity.SessionKey] = ServerIdentity },
        });
        return true;
    }
}
