using IotPki.Pki;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>Runs before the listeners open: applies migrations, loads (or on first run creates) the CAs,
/// and makes sure this instance has a TLS certificate and a CA bundle on disk. Runs again (without migrations) when
/// an issuing-CA rollover or retirement changes the CAs.</summary>
public sealed partial class PkiInitializer(
    IServiceScopeFactory scopes, PkiState state, IOptions<PkiOptions> options, CaKeyStores keys, CaPassphraseSource passphrase,
    ClusterInstance instance, TimeProvider clock, ILogger<PkiInitializer> logger)
{
    private readonly SemaphoreSlim _loading = new(1, 1);

    public async Task InitializeAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        await db.Database.MigrateAsync(ct);
        await _loading.WaitAsync(ct);
        try
        {
            var store = new AuthorityStore(db, clock, keys, passphrase);
            var (root, issuing) = await store.LoadOrCreateAsync(ct);
            if (store.RootKeyInDatabase)
            {
                LogRootKeyInDatabase(logger);
            }
            await LoadAsync(db, root, issuing, store.OpenedKeys, ct);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Loads the issuing CAs again, after another process rolled over or retired one. The CAs are read under
    /// the same lock as they are loaded: two reloads (the notice and this instance's own rollover or retirement) could
    /// otherwise load in the opposite order of their reads, leaving the older set in place.</summary>
    public async Task ReloadAsync(CancellationToken ct)
    {
        if (!state.IsReady)
        {
            return; // not loaded yet (starting, or a CLI command): the first load reads the current CAs anyway
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        await _loading.WaitAsync(ct);
        try
        {
            var store = new AuthorityStore(db, clock, keys, passphrase);
            var issuing = await store.LoadIssuingAsync(state.Authorities.ToDictionary(a => a.Name, a => a.Ca), ct);
            await LoadAsync(db, state.Root, issuing, store.OpenedKeys, ct);
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>Makes the CAs read current (the caller holds <see cref="_loading"/>).</summary>
    private async Task LoadAsync(IotPkiDbContext db, System.Security.Cryptography.X509Certificates.X509Certificate2 root,
        List<AuthorityStore.LoadedIssuing> issuing, IReadOnlyList<AuthorityStore.OpenedKey> opened, CancellationToken ct)
    {
        await AuditOpenedKeysAsync(db, opened, ct);
        var o = options.Value;
        var baseUrl = o.PublicBaseUrl.TrimEnd('/');
        var authorities = issuing.Select(i => new IssuingAuthority(i.Name,
            new CertificateIssuer(i.Ca, new PkiEndpoints(new Uri($"{baseUrl}/crl/{i.Name}.crl"), new Uri($"{baseUrl}/ocsp"), o.TrustDomain), clock),
            i.Active)).ToList();
        var active = authorities.Single(a => a.Active);

        Directory.CreateDirectory(o.DataDirectory);
        var (tlsCertificate, issued) = await ServerTlsCertificate.EnsureAsync(db, o, active.Issuer, clock, ct);
        if (issued is not null)
        {
            LogServerCertificateIssued(logger, issued.SerialHex);
        }
        ServerTlsCertificate.WriteCaBundle(o, root, authorities.OrderByDescending(a => a.Active).Select(a => a.Ca.Certificate));
        state.ServerTls.Context = ServerTlsCertificate.CreateContext(tlsCertificate, active.Ca.Certificate);
        state.Load(root, authorities);
        await ReportIssuingCaAsync(db, active.Name, ct);
        LogReady(logger, active.Ca.Certificate.Subject, authorities.Count, Path.GetFullPath(Path.Combine(o.DataDirectory, ServerTlsCertificate.CaBundleFile)));
    }

    /// <summary>Every CA key operation is an audit row: opening an issuing key is one, per instance (a key opened by
    /// a first run's creation is in its <c>ca.created</c> row).</summary>
    private async Task AuditOpenedKeysAsync(IotPkiDbContext db, IReadOnlyList<AuthorityStore.OpenedKey> opened, CancellationToken ct)
    {
        if (opened.Count == 0)
        {
            return;
        }
        var now = clock.GetUtcNow();
        foreach (var key in opened)
        {
            AuditLog.Add(db, now, "ca.key_opened", "system",
                detail: $"{key.Role}: key opened from the {key.Store} store by instance {instance.Host} ({instance.Id})");
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>This instance's heartbeat row names the CA it now signs with, at once rather than at the next beat: a
    /// rollover waits for that.</summary>
    private async Task ReportIssuingCaAsync(IotPkiDbContext db, string role, CancellationToken ct)
    {
        instance.IssuingCa = role;
        try
        {
            await InstanceHeartbeat.RecordAsync(db, instance, clock.GetUtcNow(), ct);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            LogReportFailed(logger, e.Message); // the CAs are loaded all the same; the next heartbeat reports them
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not record the issuing CA in this instance's heartbeat row ({Error}); the next heartbeat does")]
    private static partial void LogReportFailed(ILogger logger, string error);

    [LoggerMessage(LogLevel.Warning, "The root CA key is in the database (made by an earlier version): move it offline with ./iotpki ca root-offline")]
    private static partial void LogRootKeyInDatabase(ILogger logger);

    [LoggerMessage(LogLevel.Information, "Issued server TLS certificate {Serial}")]
    private static partial void LogServerCertificateIssued(ILogger logger, string serial);

    [LoggerMessage(LogLevel.Information, "PKI ready: issuing CA {Subject} ({Count} issuing CAs published), CA bundle at {Bundle}")]
    private static partial void LogReady(ILogger logger, string subject, int count, string bundle);
}
