using IotPki.Server.Data;
using Npgsql;

namespace IotPki.Server.Cluster;

/// <summary>LISTENs on PostgreSQL for what any server instance announces and hands each notice to the handlers of its
/// channel. On every (re)connect the handlers resync, so a notice missed while disconnected is not lost where it
/// matters (a revocation); a device command missed then is lost, as it would be for a device that is offline.</summary>
public sealed partial class ClusterListener(
    IServiceScopeFactory scopes, IEnumerable<IClusterNoticeHandler> handlers, TimeProvider clock, ILogger<ClusterListener> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILookup<string, IClusterNoticeHandler> _byChannel = handlers.ToLookup(h => h.Channel);

    /// <summary>The listener's connection, as <c>pg_stat_activity</c> shows it.</summary>
    public const string ApplicationName = "iotpki-cluster-listener";

    /// <summary>Completes once the first LISTEN is in place.</summary>
    public Task Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                LogConnectionLost(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, clock, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        string connectionString;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
            connectionString = Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.GetConnectionString(db.Database)!;
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 15, ApplicationName = ApplicationName };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        // Not awaited on purpose: Npgsql raises Notification synchronously inside WaitAsync, and a slow handler (closing
        // a revoked device's sessions) must not hold up reading the next notice. DispatchAsync observes every failure.
        connection.Notification += (_, e) => _ = DispatchAsync(e.Channel, e.Payload);
        if (_byChannel.Count > 0)
        {
            var channels = string.Join("; ", _byChannel.Select(g => $"LISTEN {g.Key}"));
            await using var listen = new NpgsqlCommand(channels, connection);
            await listen.ExecuteNonQueryAsync(ct);
        }
        foreach (var handler in _byChannel.SelectMany(g => g))
        {
            await handler.ResyncAsync(ct);
        }
        _listening.TrySetResult();
        while (!ct.IsCancellationRequested)
        {
            await connection.WaitAsync(ct);
        }
    }

    private async Task DispatchAsync(string channel, string payload)
    {
        foreach (var handler in _byChannel[channel])
        {
            try
            {
                await handler.HandleAsync(payload);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or ObjectDisposedException)
            {
                // What a handler could not apply now, its resync applies when the listener reconnects.
                LogHandlerFailed(logger, channel, e.Message);
            }
            catch (Exception e)
            {
                // A defect in a handler: surfaced loudly, and the other handlers of the channel still run.
                LogHandlerDefect(logger, channel, e);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Cluster listener lost PostgreSQL ({Error}); retrying in {Seconds} s")]
    private static partial void LogConnectionLost(ILogger logger, string error, double seconds);

    [LoggerMessage(LogLevel.Error, "A handler of {Channel} failed")]
    private static partial void LogHandlerDefect(ILogger logger, string channel, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not apply a notice of {Channel}: {Error}")]
    private static partial void LogHandlerFailed(ILogger logger, string channel, string error);
}
