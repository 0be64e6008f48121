using IotPki.Pki;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Ca;

/// <summary><c>ca rollover</c>: a new issuing CA under the root, which signs from then on. The earlier one stays
/// published (<c>cacerts</c>, ca.pem, chains on every listener, its own CRL and OCSP) until the last certificate it
/// signed expires, when <see cref="IssuingCaRetirement"/> destroys its key. Devices move to the new CA through their
/// normal renewal. The root key is opened here, by this explicit command, and nowhere in a running server.</summary>
public sealed class IssuingCaRollover(IotPkiDbContext db, CaKeyStores keys, ClusterNotifier cluster, TimeProvider clock)
{
    public sealed record Result(string Previous, string Current, string Subject, string KeyStore, DateTimeOffset? PreviousInUseUntil);

    public async Task<Result> RollOverAsync(string actor, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AuthorityStore.CreationLockKey})", ct);
        var now = clock.GetUtcNow();
        var records = await db.Authorities.ToListAsync(ct);
        var rootRecord = records.SingleOrDefault(r => r.Role == AuthorityRole.Root)
            ?? throw new InvalidOperationException("There is no root CA yet: start the server once to initialize the PKI.");
        var previous = records.Single(r => AuthorityRole.IsIssuing(r.Role) && r.Active);

        using var root = CertificateAuthority.Load(rootRecord.CertificatePem, keys.Open(rootRecord.KeyReference));
        Audit("ca.root_key_used", actor, now, $"rollover: root key opened from the {CaKeyStores.KindOf(rootRecord.KeyReference)} store");
        var key = keys.Issuing.Generate($"iotpki-issuing-{now:yyyyMMdd}");
        using var issuing = CertificateAuthority.CreateSubordinate($"IotPki Issuing CA {now:yyyy-MM-dd HHmmss}", AuthorityStore.IssuingLifetime, now, root, key.Key);
        var role = AuthorityRole.IssuingRoleFor(CertificateIdentifiers.SubjectKeyId(issuing.Certificate)!);
        var kind = CaKeyStores.KindOf(key.Reference);
        Audit("ca.key_generated", actor, now, $"{role}: P-256 key generated in the {kind} store");

        previous.Active = false;
        db.Authorities.Add(new AuthorityRecord
        {
            Role = role,
            CertificatePem = issuing.CertificatePem,
            KeyReference = key.Reference,
            CreatedAt = now,
            Active = true,
        });
        Audit("ca.rollover", actor, now, $"{previous.Role} -> {role} ({issuing.Certificate.Subject}); {previous.Role} stays published until its last certificate expires");
        await db.SaveChangesAsync(ct);
        await cluster.NotifyAsync(db, PkiChangedNotice.Channel, role, ct);
        await tx.CommitAsync(ct);
        await cluster.ApplyHereAsync(PkiChangedNotice.Channel, role);

        using var previousCertificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(previous.CertificatePem);
        var inUseUntil = await IssuingCaRetirement.LastExpiryAsync(db, previous.Role, previousCertificate, ct);
        return new Result(previous.Role, role, issuing.Certificate.Subject, kind, inUseUntil);
    }

    private void Audit(string action, string actor, DateTimeOffset now, string detail) =>
        db.AuditEvents.Add(new AuditEvent { At = now, Action = action, Actor = actor, Detail = detail });
}
