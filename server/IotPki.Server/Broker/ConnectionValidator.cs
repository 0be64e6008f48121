using IotPki.Identity;
using IotPki.Server.Ca;
using Microsoft.Extensions.Options;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace IotPki.Server.Broker;

/// <summary>CONNECT: the identity comes from the certificate (already accepted in the handshake); the client id must
/// be the device id (or, on MQTT 5, empty, and is then assigned); username and password are ignored. Sets a reason code, never throws.</summary>
public sealed class ConnectionValidator(PkiState pki, RevokedSet revoked, BrokerAudit audit, BrokerMetrics metrics,
    IOptions<BrokerOptions> options)
{
    public Task ValidateAsync(ValidatingConnectionEventArgs args)
    {
        var source = (args.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString();
        var identity = args.ClientCertificate is { } certificate ? BrokerIdentity.From(certificate, pki.Issuer.Endpoints.TrustDomain) : null;
        if (identity is null)
        {
            return Refuse(args, MqttConnectReasonCode.NotAuthorized, "no_identity", "anonymous", null, source, "no usable client certificate");
        }
        if (metrics.Connections >= options.Value.MaxConnections)
        {
            return Refuse(args, MqttConnectReasonCode.ServerBusy, "too_many_connections", identity.ToString(), null, source, $"{options.Value.MaxConnections} connections");
        }
        var refusal = revoked.RefusalOf(identity.Serial);
        if (refusal is not null || (identity.Device is { } device && revoked.BarredState(device) is not null))
        {
            return Refuse(args, MqttConnectReasonCode.NotAuthorized, refusal ?? RevokedSet.Revoked, identity.ToString(), identity.Device, source, $"serial {identity.Serial}");
        }
        if (string.IsNullOrEmpty(args.ClientId))
        {
            if (args.ProtocolVersion != MqttProtocolVersion.V500)
            {
                // MQTT 3.1.1 has no way to tell the client an assigned id, and MQTTnet assigns only on MQTT 5: say so.
                return Refuse(args, MqttConnectReasonCode.ClientIdentifierNotValid, "client_id_required", identity.ToString(),
                    identity.Device, source, $"MQTT 3.1.1 needs the client id '{identity.Name}'");
            }
            args.AssignedClientIdentifier = identity.Name;
        }
        else if (args.ClientId != identity.Name)
        {
            return Refuse(args, MqttConnectReasonCode.ClientIdentifierNotValid, "client_id_mismatch", identity.ToString(),
                identity.Device, source, $"client id '{Shorten(args.ClientId)}' is not the certificate's '{identity.Name}'");
        }
        args.SessionItems[BrokerIdentity.SessionKey] = identity;
        args.ReasonCode = MqttConnectReasonCode.Success;
        return Task.CompletedTask;
    }

    private Task Refuse(ValidatingConnectionEventArgs args, MqttConnectReasonCode code, string reason, string actor, DeviceId? deviceId, string? source, string detail)
    {
        args.ReasonCode = code;
        args.ReasonString = reason;
        audit.Refused(reason, actor, deviceId, source, detail);
        return Task.CompletedTask;
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
