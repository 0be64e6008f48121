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
            if (!await WriteAsync(batch, stoppingToken) && batch.Count > 1)
            {
                // One row the database refuses must not cost the others: write them one by one, losing only that one.
                foreach (var row in batch)
                {
                    await WriteAsync([row], stoppingToken);
                }
            }
        }
    }

    private async Task<bool> WriteAsync(List<(DateTimeOffset At, string Action, string Actor, DeviceId? DeviceId, string? Source, string Detail)> rows,
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
            return true;
        }
        catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException)
        {
            LogWriteFailed(logger, rows.Count, e.Message);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning, "MQTT refused: {Reason} ({Actor}, from {Source})")]
    private static partial void LogRefused(ILogger logger, string reason, string actor, string? source);

    [LoggerMessage(LogLevel.Error, "Could not write {Count} broker audit rows: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, int count, string error);
}
