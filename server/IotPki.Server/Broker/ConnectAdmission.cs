using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace IotPki.Server.Broker;

/// <summary>The connect rate limit, applied when the TCP connection is accepted, before the TLS handshake: a storm of
/// reconnects is turned away for the price of an accept, not of a handshake. Refusals are audited (the audit queue is
/// bounded, so a storm cannot flood the database).</summary>
public static class ConnectAdmission
{
    public static ListenOptions UseConnectAdmission(this ListenOptions listen, BrokerOptions options, BrokerAudit audit, TimeProvider clock)
    {
        var rate = new ConnectRateLimiter(options.ConnectsPerSecond, options.ConnectBurst, clock);
        listen.Use(next => connection =>
        {
            if (rate.TryAcquire())
            {
                return next(connection);
            }
            audit.Refused("connect_rate_exceeded", "anonymous", null, (connection.RemoteEndPoint as IPEndPoint)?.Address.ToString(),
                $"more than {options.ConnectsPerSecond} connects per second (burst {options.ConnectBurst})");
            connection.Abort();
            return Task.CompletedTask;
        });
        return listen;
    }
}
