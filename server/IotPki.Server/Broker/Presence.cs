using System.Threading.Channels;
using IotPki.Identity;
using IotPki.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Broker;

/// <summary>Device online state and last-seen time: one write per connect and per disconnect, none per message,
/// done off the connection's path.</summary>
public sealed partial class Presence(IServiceScopeFactory scopes, TimeProvider clock, ILogger<Presence> logger) : BackgroundService
{
    private readonly Channel<(DeviceId DeviceId, bool Online, DateTimeOffset At)> _changes =
        Channel.CreateBounded<(DeviceId, bool, DateTimeOffset)>(new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

    public void Connected(DeviceId deviceId) => _changes.Writer.TryWrite((deviceId, true, clock.GetUtcNow()));
    public void Disconnected(DeviceId deviceId) => _changes.Writer.TryWrite((deviceId, false, clock.GetUtcNow()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (await _changes.Reader.WaitToReadAsync(stoppingToken))
        {
            // Only the latest change per device matters.
            var latest = new Dictionary<DeviceId, (bool Online, DateTimeOffset At)>();
            while (latest.Count < 1000 && _changes.Reader.TryRead(out var change))
            {
                latest[change.DeviceId] = (change.Online, change.At);
            }
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
                foreach (var group in latest.GroupBy(p => p.Value.Online))
                {
                    var ids = group.Select(p => p.Key).ToList();
                    var online = group.Key;
                    var at = group.Max(p => p.Value.At);
                    await db.Devices.Where(d => ids.Contains(d.Id))
                        .ExecuteUpdateAsync(s => s.SetProperty(d => d.Online, online).SetProperty(d => d.LastSeenAt, at), stoppingToken);
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or DbUpdateException)
            {
                LogFailed(logger, latest.Count, e.Message);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not record presence of {Count} devices: {Error}")]
    private static partial void LogFailed(ILogger logger, int count, string error);
}
