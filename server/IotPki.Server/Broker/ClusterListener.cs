using IotPki.Server.Data;
using Npgsql;

namespace IotPki.Server.Broker;

/// <summary>LISTENs on PostgreSQL for what any server instance announces. Revocations update the in-memory
/// <see cref="RevokedSet"/> and close the live sessions here; on (re)connect it reloads the whole set, so a notice
/// missed while disconnected is not lost. Device commands are published to the device if it is connected here (a
/// command missed while disconnected is lost, as it would be for a device that is offline).</summary>
public sealed partial class ClusterListener(
    IServiceScopeFactory scopes, RevokedSet revoked, BrokerSessions sessions, TimeProvider clock, ILogger<ClusterListener> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
        connection.Notification += (_, e) => _ = e.Channel == DeviceCommandNotice.Channel ? RelayCommandAsync(e.Payload) : ApplyLoggedAsync(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {RevocationNotice.Channel}; LISTEN {DeviceCommandNotice.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }
        await using (var scope = scopes.CreateAsyncScope())
        {
            await revoked.ReloadAsync(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>(), clock, ct);
        }
        // Revocations notified while this listener was away are in the reloaded set: close their sessions now.
        await sessions.CloseRevokedAsync(revoked);
        _listening.TrySetResult();
        while (!ct.IsCancellationRequested)
        {
            await connection.WaitAsync(ct);
        }
    }

    private async Task ApplyLoggedAsync(string payload)
    {
        try
        {
            await ApplyAsync(payload);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The set is reloaded (and missed sessions closed) when the listener reconnects.
            LogApplyFailed(logger, e.Message);
        }
    }

    private async Task RelayCommandAsync(string payload)
    {
        if (DeviceCommandNotice.Parse(payload) is not { } notice)
        {
            return;
        }
        try
        {
            if (await sessions.PublishCommandAsync(notice))
            {
                LogCommandRelayed(logger, notice.Command, notice.DeviceId);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            LogCommandFailed(logger, notice.Command, notice.DeviceId, e.Message);
        }
    }

    public async Task ApplyAsync(string payload)
    {
        var notice = RevocationNotice.Parse(payload);
        if (notice is null)
        {
            return;
        }
        if (notice.Serials.Length == 0 && notice.DeviceId is not null)
        {
            await using var scope = scopes.CreateAsyncScope();
            await revoked.ReloadAsync(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>(), clock, CancellationToken.None);
        }
        revoked.Add(notice.Serials, notice.DeviceId, notice.DeviceState);
        if (notice.DeviceState is Data.Entities.DeviceState.Revoked or Data.Entities.DeviceState.Suspended || notice.Serials.Length > 0)
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

    [LoggerMessage(LogLevel.Warning, "Cluster listener lost PostgreSQL ({Error}); retrying in {Seconds} s")]
    private static partial void LogConnectionLost(ILogger logger, string error, double seconds);

    [LoggerMessage(LogLevel.Warning, "Could not apply a revocation notice: {Error}")]
    private static partial void LogApplyFailed(ILogger logger, string error);

    [LoggerMessage(LogLevel.Information, "Sent the {Command} command to {DeviceId}")]
    private static partial void LogCommandRelayed(ILogger logger, string command, string deviceId);

    [LoggerMessage(LogLevel.Warning, "Could not send the {Command} command to {DeviceId}: {Error}")]
    private static partial void LogCommandFailed(ILogger logger, string command, string deviceId, string error);

    [LoggerMessage(LogLevel.Warning, "Could not close the sessions of {DeviceId}: {Error}")]
    private static partial void LogCloseFailed(ILogger logger, string? deviceId, string error);
}
