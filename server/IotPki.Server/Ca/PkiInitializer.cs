using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>Runs before the listeners open: applies migrations, loads (or on first run creates) the CAs,
/// and makes sure this instance has a TLS certificate and a CA bundle on disk.</summary>
public sealed partial class PkiInitializer(
    IServiceScopeFactory scopes, PkiState state, IOptions<PkiOptions> options, CaKeyStores keys, CaPassphraseSource passphrase,
    TimeProvider clock, ILogger<PkiInitializer> logger)
{
    public async Task InitializeAsync(CancellationToken ct)
    {
        var o = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        await db.Database.MigrateAsync(ct);

        var (root, issuing) = await new AuthorityStore(db, clock, keys, passphrase).LoadOrCreateAsync(ct);

        var baseUrl = o.PublicBaseUrl.TrimEnd('/');
        var endpoints = new PkiEndpoints(new Uri($"{baseUrl}/crl/issuing.crl"), new Uri($"{baseUrl}/ocsp"), o.TrustDomain);
        var issuer = new CertificateIssuer(issuing, endpoints, clock);

        Directory.CreateDirectory(o.DataDirectory);
        var (tlsCertificate, issued) = await ServerTlsCertificate.EnsureAsync(db, o, issuer, clock, ct);
        if (issued is not null)
        {
            LogServerCertificateIssued(logger, issued.SerialHex);
        }
        ServerTlsCertificate.WriteCaBundle(o, root, issuing.Certificate);
        state.ServerTls.Context = ServerTlsCertificate.CreateContext(tlsCertificate, issuing.Certificate);
        state.Load(root, issuer);
        LogReady(logger, issuing.Certificate.Subject, Path.GetFullPath(Path.Combine(o.DataDirectory, ServerTlsCertificate.CaBundleFile)));
    }

    [LoggerMessage(LogLevel.Information, "Issued server TLS certificate {Serial}")]
    private static partial void LogServerCertificateIssued(ILogger logger, string serial);

    [LoggerMessage(LogLevel.Information, "PKI ready: issuing CA {Subject}, CA bundle at {Bundle}")]
    private static partial void LogReady(ILogger logger, string subject, string bundle);
}
