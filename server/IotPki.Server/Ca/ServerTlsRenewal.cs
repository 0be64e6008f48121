using IotPki.Server.Data;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>Renews this instance's TLS certificate while it runs, before it expires: every
/// <see cref="PkiOptions.ServerTlsCheckInterval"/> it checks, and once the certificate passes 2/3 of its life it issues
/// a new one and swaps it in. Every listener reads the certificate per handshake, so new connections get the new one
/// and the connections already open keep theirs: nothing is dropped.</summary>
public sealed partial class ServerTlsRenewal(
    IServiceScopeFactory scopes, PkiState state, IOptions<PkiOptions> options, TimeProvider clock, ILogger<ServerTlsRenewal> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ServerTlsCheckInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!state.IsReady)
                {
                    continue;
                }
                try
                {
                    await RenewIfDueAsync(stoppingToken);
                }
                catch (Exception e) when (DatabaseUnavailable.Is(e) && !stoppingToken.IsCancellationRequested)
                {
                    // The certificate in use stays until the next check: it has a third of its life left.
                    LogDatabaseUnavailable(logger, e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task RenewIfDueAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        var (certificate, issued) = await ServerTlsCertificate.EnsureAsync(db, options.Value, state.Issuer, clock, ct);
        if (issued is null)
        {
            certificate.Dispose();
            return;
        }
        state.ServerTls.Context = ServerTlsCertificate.CreateContext(certificate, state.Issuing);
        LogRenewed(logger, issued.SerialHex, issued.Certificate.NotAfter.ToUniversalTime());
    }

    [LoggerMessage(LogLevel.Information, "Server TLS certificate renewed while running: {Serial}, valid until {NotAfter:u}; new connections get it")]
    private static partial void LogRenewed(ILogger logger, string serial, DateTime notAfter);

    [LoggerMessage(LogLevel.Warning, "Server TLS renewal check skipped: PostgreSQL unavailable ({Error})")]
    private static partial void LogDatabaseUnavailable(ILogger logger, string error);
}
