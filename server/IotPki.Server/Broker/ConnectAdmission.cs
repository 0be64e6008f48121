using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Broker;

/// <summary>Admission of new MQTT connections, decided when the TCP connection is accepted, before the TLS handshake:
/// the connect rate limit, and the bound on handshakes in progress when one is set. A storm of reconnects is turned
/// away for the price of an accept, not of a handshake. Refusals are audited (the audit queue is bounded, so a storm
/// cannot flood the database).</summary>
public static class ConnectAdmission
{
    private const string SlotKey = "iotpki.handshake-slot";

    /// <summary>Admits a connection before TLS; pair it with <see cref="EndHandshake"/> after the TLS middleware.</summary>
    public static ListenOptions UseConnectAdmission(this ListenOptions listen, BrokerOptions options, BrokerAudit audit, TimeProvider clock)
    {
        var rate = new ConnectRateLimiter(options.ConnectsPerSecond, options.ConnectBurst, clock);
        var handshakes = options.MaxConcurrentHandshakes > 0 ? new HandshakeSlots(options.MaxConcurrentHandshakes) : null;
        listen.Use(next => async connection =>
        {
            // The address is formatted for a refusal only: an admitted connection costs no string.
            string? Source() => (connection.RemoteEndPoint as IPEndPoint)?.Address.ToString();
            if (!rate.TryAcquire())
            {
                audit.Refused("connect_rate_exceeded", "anonymous", null, Source(),
                    $"more than {options.ConnectsPerSecond} connects per second (burst {options.ConnectBurst})");
                connection.Abort();
                return;
            }
            if (handshakes is null)
            {
                await next(connection);
                return;
            }
            if (handshakes.TryTake() is not { } slot)
            {
                audit.Refused("handshakes_saturated", "anonymous", null, Source(),
                    $"{options.MaxConcurrentHandshakes} TLS handshakes already in progress");
                connection.Abort();
                return;
            }
            connection.Items[SlotKey] = slot;
            try
            {
                await next(connection);
            }
            finally
            {
                slot.Release();
            }
        });
        return listen;
    }

    /// <summary>Gives the connection's handshake slot back once TLS is established.</summary>
    public static ListenOptions EndHandshake(this ListenOptions listen)
    {
        listen.Use(next => connection =>
        {
            if (connection.Items.TryGetValue(SlotKey, out var slot))
            {
                ((HandshakeSlots.Slot)slot!).Release();
            }
            return next(connection);
        });
        return listen;
    }
}
