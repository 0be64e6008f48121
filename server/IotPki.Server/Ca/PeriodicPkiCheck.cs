using IotPki.Server.Data;

namespace IotPki.Server.Ca;

/// <summary>A check a running instance makes every interval once its CAs are loaded (server TLS renewal, issuing-CA
/// retirement). A check that finds PostgreSQL away is skipped until the next tick: what it would change can wait.</summary>
public abstract partial class PeriodicPkiCheck(PkiState state, TimeSpan interval, TimeProvider clock, ILogger logger) : BackgroundService
{
    protected PkiState State { get; } = state;
    protected TimeProvider Clock { get; } = clock;
    protected ILogger Logger { get; } = logger;

    /// <summary>Names the check in the log line of a skipped one.</summary>
    protected abstract string Name { get; }

    /// <summary>Whether there is anything to check for, with the CAs loaded.</summary>
    protected virtual bool IsDue => true;

    protected abstract Task CheckAsync(CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!State.IsReady || !IsDue)
                {
                    continue;
                }
                try
                {
                    await CheckAsync(stoppingToken);
                }
                catch (Exception e) when (DatabaseUnavailable.Is(e) && !stoppingToken.IsCancellationRequested)
                {
                    LogDatabaseUnavailable(Logger, Name, e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Check} skipped: PostgreSQL unavailable ({Error})")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string check, string error);
}
