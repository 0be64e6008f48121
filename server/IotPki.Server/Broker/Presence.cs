using System.Threading.Channels;
using IotPki.Identity;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IotPki.Server.Broker;

/// <summary>Device online state and last-seen time, off the connection's path: changes are coalesced per device (only
/// the latest matters, none is dropped however many arrive) and written in one statement per batch, each device with
/// its own time. A connect also tells the device lifecycle what it proves (older certificates superseded), and a
/// device's subscription to its commands lets a renewal that came due while it was offline be asked now.</summary>
public sealed partial class Presence(IServiceScopeFactory scopes, ClusterInstance instance, TimeProvider clock, ILogger<Presence> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    private readonly Lock _lock = new();
    private Dictionary<DeviceId, Change> _pending = [];
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    private readonly record struct Change(bool Online, DateTimeOffset At, string? Serial, bool Listening);

    public void Connected(DeviceId deviceId, string serial) => Record(deviceId, new Change(true, clock.GetUtcNow(), serial, false));
    public void Disconnected(DeviceId deviceId) => Record(deviceId, new Change(false, clock.GetUtcNow(), null, false));

    /// <summary>The device subscribed to its commands: a renewal that came due while it was offline can be asked now.</summary>
    public void ListeningForCommands(DeviceId deviceId, string serial) => Record(deviceId, new Change(true, clock.GetUtcNow(), serial, true));

    private void Record(DeviceId deviceId, Change change)
    {
        lock (_lock)
        {
            // A connect followed by its subscription is one change that does both.
            _pending[deviceId] = _pending.TryGetValue(deviceId, out var earlier) && earlier.Online && change.Online
                ? change with { Listening = change.Listening || earlier.Listening }
                : change;
        }
        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (await _wake.Reader.WaitToReadAsync(stoppingToken))
        {
            _wake.Reader.TryRead(out _);
            Dictionary<DeviceId, Change> batch;
            lock (_lock)
            {
                batch = _pending;
                _pending = [];
            }
            foreach (var chunk in batch.Chunk(BatchSize))
            {
                if (!await WriteAsync(chunk, stoppingToken))
                {
                    Requeue(chunk);
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, stoppingToken);
                }
            }
        }
    }

    /// <summary>Changes a failed write did not record go back, unless a newer one for the device came meanwhile.</summary>
    private void Requeue(KeyValuePair<DeviceId, Change>[] changes)
    {
        lock (_lock)
        {
            foreach (var (device, change) in changes)
            {
                _pending.TryAdd(device, change);
            }
        }
        _wake.Writer.TryWrite(true);
    }

    private async Task<bool> WriteAsync(KeyValuePair<DeviceId, Change>[] changes, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
            // A disconnect here after the device came back on another instance leaves it online there.
            await db.Database.ExecuteSqlRawAsync("""
                UPDATE devices d SET "Online" = v.online, "LastSeenAt" = v.at,
                       "InstanceId" = CASE WHEN v.online THEN @instance ELSE NULL END
                FROM unnest(@ids, @online, @at) AS v(id, online, at)
                WHERE d."Id" = v.id AND (v.online OR d."InstanceId" IS NULL OR d."InstanceId" = @instance)
                """, [
                new NpgsqlParameter("instance", instance.Id),
                new NpgsqlParameter("ids", changes.Select(c => c.Key.Value).ToArray()),
                new NpgsqlParameter("online", changes.Select(c => c.Value.Online).ToArray()),
                new NpgsqlParameter("at", changes.Select(c => c.Value.At).ToArray())], ct);
            var lifecycle = scope.ServiceProvider.GetRequiredService<DeviceLifecycle>();
            await lifecycle.ConnectedAsync([.. changes.Where(c => c.Value.Serial is not null).Select(c => (c.Key, c.Value.Serial!))], ct);
            await lifecycle.AskRenewalsAsync([.. changes.Where(c => c.Value.Listening).Select(c => c.Key)], onlineOnly: false, DeviceLifecycle.PlannerActor, ct);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or DbUpdateException)
        {
            LogFailed(logger, changes.Length, e.Message);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not record presence of {Count} devices: {Error}")]
    private static partial void LogFailed(ILogger logger, int count, string error);
}
