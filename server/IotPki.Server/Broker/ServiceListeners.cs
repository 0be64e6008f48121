using System.Collections.Concurrent;

namespace IotPki.Server.Broker;

/// <summary>Whether any service on this instance has subscribed to what devices publish. Only services may subscribe
/// to device telemetry and state (<see cref="TopicAcl"/>), yet MQTTnet matches every publish against every session
/// that holds a subscription, and every device holds one (its commands). With no service listening, a device's
/// publish has no possible recipient, and that scan of all device sessions was a fifth of a 10,000-device fleet's
/// broker time. Counted before a subscription takes effect and forgotten with its session (sessions do not persist
/// here), so an over-count costs only the shortcut, never a message. Keyed by the connection's identity object, not
/// the client id: a service reconnecting under the same id must not lose its count to the old connection's end.</summary>
public sealed class ServiceListeners
{
    private readonly ConcurrentDictionary<BrokerIdentity, int> _subscriptions = new(ReferenceEqualityComparer.Instance);

    public bool Any => !_subscriptions.IsEmpty;

    public void Subscribing(BrokerIdentity service) => _subscriptions.AddOrUpdate(service, 1, (_, n) => n + 1);

    public void Unsubscribed(BrokerIdentity service)
    {
        if (_subscriptions.AddOrUpdate(service, 0, (_, n) => n - 1) <= 0)
        {
            _subscriptions.TryRemove(KeyValuePair.Create(service, 0));
        }
    }

    public void Disconnected(BrokerIdentity service) => _subscriptions.TryRemove(service, out _);
}
