using System.Threading.Channels;
using IotPki.Identity;
using IotPki.Server.Data;

namespace IotPki.Server.Broker;

/// <summary>Broker refusals become audit rows off the hot path: queued (bounded), written in batches.
/// A flood of refusals cannot slow the handshakes; what overflows is counted, not written, and a client repeating a
/// refused action gets at most <see cref="BrokerOptions.AuditRowsPerMinute"/> rows per reason (<see cref="AuditThrottle"/>).</summary>
public sealed partial class BrokerAudit(IServiceScopeFactory scopes, TimeProvider clock, BrokerMetrics metrics,
    Microsoft.Extensions.Options.IOptions<BrokerOptions> options, ILogger<BrokerAudit> logger)
    : BackgroundService
{
    private readonly AuditThrottle _throttle = new(options.Value.AuditRowsPerMinute, TimeSpan.FromMinutes(1), clock);

    private readonly Channel<(DateTimeOffset At, string Action, string Actor, DeviceId? DeviceId, string? Source, string Detail)> _queue =
        Channel.CreateBounded<(DateTimeOffset, string, string, DeviceId?, string?, string)>(
            new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Refused(string reason, string actor, DeviceId? deviceId, string? source, string detail)
    {
        metrics.Refused(reason);
        if (_throttle.Admit(actor, reason) is not { } heldBack)
        {
            metrics.AuditHeldBack();
            return;
        }
        LogRefused(logger, reason, actor, source);
        var text = heldBack == 0 ? $"{reason}: {detail}" : $"{reason}: {detail} (and {heldBack} more like it not written)";
        if (!_queue.Writer.TryWrite((clock.GetUtcNow(), "mqtt.refused", actor, deviceId, source, text)))
        {
            metrics.AuditDropped();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            var batch = new List<(DateTimeOffset At, string Action, string Actor, DeviceId? DeviceId, string? Source, string Detail)>();
            while (batch.Count < 500 && reader.TryRead(out var e))
            {
                batch.Add(e);
            }
            await WriteKeepingOnOutageAsync(batch, stoppingToken);
        }
    }

    /// <summary>A database outage keeps the batch and retries it (while it lasts, new refusals queue up behind it, up to
    /// the queue's bound); a row the database refuses costs only that row.</summary>
    private async Task WriteKeepingOnOutageAsync(
        List<(DateTimeOffset At, string Action, string Actor, DeviceId? DeviceId, string? Source, string Detail)> batch, CancellationToken ct)
    {
        var wait = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            switch (await WriteAsync(batch, ct))
            {
                case WriteOutcome.Written:
                    return;
                case WriteOutcome.DatabaseUnavailable:
                    await Task.Delay(wait, clock, ct);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                    continue;
                case WriteOutcome.Refused when batch.Count > 1:
                    foreach (var row in batch)
                    {
                        await WriteKeepingOnOutageAsync([row], ct);
                    }
                    return;
                default:
                    metrics.AuditDropped();
                    return;
            }
        }
    }

    private enum WriteOutcome { Written, DatabaseUnavailable, Refused }

    private async Task<WriteOutcome> WriteAsync(List<(DateTimeOffset At, string Action, string Actor, DeviceId? DeviceId, string? Source, string Detail)> rows,
        CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        foreach (var e in rows)
        {
            AuditLog.Add(db, e.At, e.Action, e.Actor, e.DeviceId, e.Source, e.Detail);
        }
        try
        {
            await db.SaveChangesAsync(ct);
            return WriteOutcome.Written;
        }
        catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException
                                  && !ct.IsCancellationRequested)
        {
            if (DatabaseUnavailable.Is(e))
            {
                LogWaitingForDatabase(logger, rows.Count, e.Message);
                return WriteOutcome.DatabaseUnavailable;
            }
            LogWriteFailed(logger, rows.Count, e.Message);
            return WriteOutcome.Refused;
        }
    }

    [LoggerMessage(LogLevel.Warning, "MQTT refused: {Reason} ({Actor}, from {Source})")]
    private static partial void LogRefused(ILogger logger, string reason, string actor, string? source);

    [LoggerMessage(LogLevel.Warning, "PostgreSQL is unavailable; {Count} broker audit rows wait for it: {Error}")]
    private static partial void LogWaitingForDatabase(ILogger logger, int count, string error);

    [LoggerMessage(LogLevel.Error, "Could not write {Count} broker audit rows: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, int count, string error);
}
