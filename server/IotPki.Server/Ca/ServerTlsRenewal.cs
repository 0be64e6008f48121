using IotPki.Server.Data;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>Renews this instance's TLS certificate while it runs, before it expires: every
/// <see cref="PkiOptions.ServerTlsCheckInterval"/> it checks, and once the certificate passes 2/3 of its life it issues
/// a new one and swaps it in. Every listener reads the certificate per handshake, so new connections get the new one
/// and the connections already open keep theirs: nothing is dropped. With PostgreSQL away, the certificate in use stays
/// until the next check: it has a third of its life left.</summary>
public sealed partial class ServerTlsRenewal(
    IServiceScopeFactory scopes, PkiState state, IOptions<PkiOptions> options, TimeProvider clock, ILogger<ServerTlsRenewal> logger)
    : PeriodicPkiCheck(state, options.Value.ServerTlsCheckInterval, clock, logger)
{
    protected override string Name => "Server TLS renewal check";

    protected override async Task CheckAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        var (certificate, issued) = await ServerTlsCertificate.EnsureAsync(db, options.Value, State.Issuer, Clock, ct);
        if (issued is null)
        {
            certificate.Dispose();
            return;
        }
        State.ServerTls.Context = ServerTlsCertificate.CreateContext(certificate, State.Issuing);
        LogRenewed(Logger, issued.SerialHex, issued.Certificate.NotAfter.ToUniversalTime());
    }

    [LoggerMessage(LogLevel.Information, "Server TLS certificate renewed while running: {Serial}, valid until {NotAfter:u}; new connections get it")]
    private static partial void LogRenewed(ILogger logger, string serial, DateTime notAfter);
}
