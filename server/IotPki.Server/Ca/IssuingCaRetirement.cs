using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>Retires an earlier issuing CA once the last certificate it signed has expired: its key is destroyed in its
/// store, it leaves <c>cacerts</c>, ca.pem and the chains, and its CRL is no longer served (no certificate it signed is
/// valid any more, so none needs a CRL). Checked every <see cref="PkiOptions.CaRetirementCheckInterval"/>.</summary>
public sealed partial class IssuingCaRetirement(
    IServiceScopeFactory scopes, PkiState state, IOptions<PkiOptions> options, TimeProvider clock, ILogger<IssuingCaRetirement> logger)
    : PeriodicPkiCheck(state, options.Value.CaRetirementCheckInterval, clock, logger)
{
    protected override string Name => "Issuing CA retirement check";

    protected override bool IsDue => State.Authorities.Count > 1;

    protected override Task CheckAsync(CancellationToken ct) => RetireExpiredAsync(Clock.GetUtcNow(), ct);

    /// <summary>Retires every earlier issuing CA whose certificates have all expired at <paramref name="now"/>; returns their names.</summary>
    public async Task<IReadOnlyList<string>> RetireExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        var keys = scope.ServiceProvider.GetRequiredService<CaKeyStores>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AuthorityStore.CreationLockKey})", ct);
        var candidates = await db.Authorities.Where(a => !a.Active && a.RetiredAt == null).ToListAsync(ct);
        var retired = new List<string>();
        foreach (var record in candidates.Where(r => AuthorityRole.IsIssuing(r.Role)))
        {
            using var certificate = X509Certificate2.CreateFromPem(record.CertificatePem);
            var lastExpiry = await LastExpiryAsync(db, record.Role, certificate, ct);
            if (lastExpiry is { } until && until > now)
            {
                continue;
            }
            var kind = CaKeyStores.KindOf(record.KeyReference);
            try
            {
                keys.Destroy(record.KeyReference);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or InvalidOperationException or IOException
                or Net.Pkcs11Interop.Common.Pkcs11Exception)
            {
                // Not retired while its key may still exist: tried again at the next check.
                LogDestroyFailed(Logger, record.Role, kind, e.Message);
                continue;
            }
            record.KeyReference = "";
            record.RetiredAt = now;
            db.AuditEvents.Add(new AuditEvent
            {
                At = now, Action = "ca.retired", Actor = "system",
                Detail = $"{record.Role} ({certificate.Subject}): its last certificate expired; key destroyed in the {kind} store",
            });
            retired.Add(record.Role);
            LogRetired(Logger, record.Role, kind);
        }
        if (retired.Count > 0)
        {
            await db.SaveChangesAsync(ct);
            await scope.ServiceProvider.GetRequiredService<ClusterNotifier>().NotifyAsync(db, PkiChangedNotice.Channel, string.Join(',', retired), ct);
        }
        await tx.CommitAsync(ct);
        if (retired.Count > 0)
        {
            await scope.ServiceProvider.GetRequiredService<ClusterNotifier>().ApplyHereAsync(PkiChangedNotice.Channel, string.Join(',', retired));
        }
        return retired;
    }

    /// <summary>When the last certificate an issuing CA signed expires (revoked ones too: they stay on its CRL until
    /// then); null when it signed none.</summary>
    public static async Task<DateTimeOffset?> LastExpiryAsync(IotPkiDbContext db, string role, X509Certificate2 certificate, CancellationToken ct)
    {
        var keyId = CertificateIdentifiers.SubjectKeyId(certificate) ?? "";
        var unrecorded = AuthorityRole.OwnsUnrecordedCertificates(role);
        return await db.Certificates
            .Where(c => c.IssuerKeyId == keyId || (unrecorded && c.IssuerKeyId == null))
            .MaxAsync(c => (DateTimeOffset?)c.NotAfter, ct);
    }

    [LoggerMessage(LogLevel.Warning, "Issuing CA {Role} retired: its certificates have all expired, its key is destroyed in the {Store} store")]
    private static partial void LogRetired(ILogger logger, string role, string store);

    [LoggerMessage(LogLevel.Error, "Issuing CA {Role} not retired: its key could not be destroyed in the {Store} store: {Error}")]
    private static partial void LogDestroyFailed(ILogger logger, string role, string store, string error);
}
