using Microsoft.Extensions.Options;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace IotPki.Server.Broker;

/// <summary>Applies <see cref="TopicAcl"/> to each PUBLISH and SUBSCRIBE: a refusal is answered per MQTT (reason
/// codes on v5), audited, and the session stays up.</summary>
public sealed class TopicGuard(BrokerAudit audit, BrokerMetrics metrics, ServiceListeners listeners, IOptions<BrokerOptions> options)
{
    public Task InterceptPublishAsync(InterceptingPublishEventArgs args)
    {
        if (args.SessionItems[BrokerIdentity.SessionKey] is not BrokerIdentity who)
        {
            args.ProcessPublish = false;
            args.CloseConnection = true;
            return Task.CompletedTask;
        }
        var topic = args.ApplicationMessage.Topic;
        if (args.ApplicationMessage.Payload.Length > options.Value.MaxPayloadBytes)
        {
            args.ProcessPublish = false;
            args.Response.ReasonCode = MqttPubAckReasonCode.PayloadFormatInvalid;
            args.Response.ReasonString = "payload too large";
            audit.Refused("payload_too_large", who.ToString(), who.Device, null, $"{args.ApplicationMessage.Payload.Length} bytes to {Shorten(topic)}");
            return Task.CompletedTask;
        }
        if (!TopicAcl.MayPublish(who, topic))
        {
            args.ProcessPublish = false;
            args.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            args.Response.ReasonString = "topic not allowed";
            audit.Refused("publish_not_allowed", who.ToString(), who.Device, null, Shorten(topic));
            return Task.CompletedTask;
        }
        metrics.MessageIn();
        if (who.IsDevice && !args.ApplicationMessage.Retain && !listeners.Any)
        {
            // Nobody could receive it: answered as MQTT 5 says, without matching it against every device's session.
            args.ProcessPublish = false;
            args.Response.ReasonCode = MqttPubAckReasonCode.NoMatchingSubscribers;
        }
        return Task.CompletedTask;
    }

    public Task InterceptSubscriptionAsync(InterceptingSubscriptionEventArgs args)
    {
        var filter = args.TopicFilter.Topic;
        if (args.SessionItems[BrokerIdentity.SessionKey] is not BrokerIdentity who || !TopicAcl.MaySubscribe(who, filter))
        {
            var actor = args.SessionItems[BrokerIdentity.SessionKey]?.ToString() ?? "anonymous";
            args.ProcessSubscription = false;
            args.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            args.ReasonString = "topic filter not allowed";
            audit.Refused("subscribe_not_allowed", actor, (args.SessionItems[BrokerIdentity.SessionKey] as BrokerIdentity)?.Device, null, Shorten(filter));
        }
        else if (!who.IsDevice)
        {
            listeners.Subscribing(who);
        }
        return Task.CompletedTask;
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
