using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IotPki.Server.Cluster;

/// <summary>Keeps this instance's row fresh, and buries the instances that stopped beating: the devices whose broker
/// session they held are marked offline (a killed instance sends no disconnects). On a clean stop the instance
/// buries itself.</summary>
public sealed partial class InstanceHeartbeat(IServiceScopeFactory scopes, ClusterInstance instance, IOptions<ClusterOptions> options,
    TimeProvider clock, ILogger<InstanceHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeartbeatInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await BeatAsync(interval, stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or DbUpdateException && !stoppingToken.IsCancellationRequested)
            {
                LogFailed(logger, e.Message);
            }
            await Task.Delay(interval, clock, stoppingToken);
        }
    }

    private async Task BeatAsync(TimeSpan interval, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        var now = clock.GetUtcNow();
        var issuing = instance.IssuingCa;
        await RecordAsync(db, instance, now, ct);
        if (instance.IssuingCa != issuing)
        {
            // A reload recorded its CA while this beat was writing the one it read before: write the new one again.
            await RecordAsync(db, instance, now, ct);
        }
        var dead = await db.Instances.Where(i => i.HeartbeatAt < now - interval * 3).Select(i => i.Id).ToListAsync(ct);
        foreach (var id in dead)
        {
            var offline = await BuryAsync(db, id, now, ct);
            LogBuried(logger, id, offline);
        }
    }

    /// <summary>Writes the instance's row: alive now, and the issuing CA it signs with once known.</summary>
    public static Task RecordAsync(IotPkiDbContext db, ClusterInstance instance, DateTimeOffset now, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync("""
            INSERT INTO server_instances ("Id", "Host", "StartedAt", "HeartbeatAt", "IssuingCa") VALUES (@id, @host, @now, @now, @issuing)
            ON CONFLICT ("Id") DO UPDATE SET "HeartbeatAt" = @now, "IssuingCa" = COALESCE(@issuing, server_instances."IssuingCa")
            """, [new NpgsqlParameter("id", instance.Id), new NpgsqlParameter("host", instance.Host), new NpgsqlParameter("now", now),
                new NpgsqlParameter("issuing", (object?)instance.IssuingCa ?? DBNull.Value)], ct);

    /// <summary>The instance's devices offline and its row gone, in one commit: nobody sees one without the other.</summary>
    private static async Task<int> BuryAsync(IotPkiDbContext db, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var offline = await db.Devices.Where(d => d.InstanceId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Online, false).SetProperty(d => d.InstanceId, (Guid?)null), ct);
        await db.Instances.Where(i => i.Id == id).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return offline;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await BuryAsync(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>(), instance.Id, clock.GetUtcNow(), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host would not wait: the others bury this instance once its heartbeat is stale.
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or DbUpdateException)
        {
            LogFailed(logger, e.Message);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Instance {Instance} stopped beating: {Devices} of its devices marked offline")]
    private static partial void LogBuried(ILogger logger, Guid instance, int devices);

    [LoggerMessage(LogLevel.Warning, "Instance heartbeat failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string error);
}
