using IotPki.Identity;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Broker;

/// <summary>Revocations and suspensions on this instance's broker: the in-memory <see cref="RevokedSet"/> updated and
/// the live sessions closed. On resync the whole set is reloaded and the sessions of what was revoked meanwhile
/// closed.</summary>
public sealed partial class RevocationNoticeHandler(
    IServiceScopeFactory scopes, RevokedSet revoked, BrokerSessions sessions, ClusterInstance instance, TimeProvider clock,
    ILogger<RevocationNoticeHandler> logger)
    : IClusterNoticeHandler
{
    public string Channel => RevocationNotice.Channel;

    public async Task HandleAsync(string payload)
    {
        if (RevocationNotice.Parse(payload) is not { } notice)
        {
            return;
        }
        using var activity = BrokerMetrics.Tracing.StartActivity("broker.revocation", System.Diagnostics.ActivityKind.Consumer, notice.TraceParent);
        activity?.SetTag("iotpki.device", notice.DeviceId?.Value);
        activity?.SetTag("iotpki.instance", instance.Id);
        if (notice.Serials.Length == 0 && notice.DeviceId is not null)
        {
            await ReloadAsync(CancellationToken.None);
        }
        revoked.Add(notice.Serials, notice.DeviceId, notice.DeviceState, superseded: notice.KeepSessions);
        if (!notice.KeepSessions && (notice.DeviceState is DeviceState.Revoked or DeviceState.Suspended || notice.Serials.Length > 0))
        {
            try
            {
                await sessions.CloseAsync(notice.Serials, notice.DeviceId);
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                LogCloseFailed(logger, notice.DeviceId, e.Message);
            }
        }
    }

    public async Task ResyncAsync(CancellationToken ct)
    {
        await ReloadAsync(ct);
        await sessions.CloseRevokedAsync(revoked);
    }

    private async Task ReloadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        await revoked.ReloadAsync(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>(), clock, ct);
    }

    [LoggerMessage(LogLevel.Warning, "Could not close the sessions of {DeviceId}: {Error}")]
    private static partial void LogCloseFailed(ILogger logger, DeviceId? deviceId, string error);
}
