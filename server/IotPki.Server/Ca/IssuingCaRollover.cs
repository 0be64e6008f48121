using System.Security.Cryptography;
using IotPki.Pki;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary><c>ca rollover</c>: a new issuing CA under the root, which signs from then on. The earlier one stays
/// published (<c>cacerts</c>, ca.pem, chains on every listener, its own CRL and OCSP) until the last certificate it
/// signed expires, when <see cref="IssuingCaRetirement"/> destroys its key. Devices move to the new CA through their
/// normal renewal. The root key is opened here, by this explicit command, and nowhere in a running server.</summary>
public sealed class IssuingCaRollover(
    IotPkiDbContext db, CaKeyStores keys, ClusterNotifier cluster, IOptions<ClusterOptions> clusterOptions, TimeProvider clock)
{
    /// <summary>How long the rollover waits for the live instances to sign with the new CA. A reload takes a second or
    /// two (it opens the new key and renews the instance's TLS certificate); an instance still on the old CA after
    /// this is named in the result.</summary>
    public static readonly TimeSpan SwitchPatience = TimeSpan.FromSeconds(30);

    /// <param name="Lagging">Live instances (host and id) still signing with the previous CA when the wait ended.</param>
    public sealed record Result(string Previous, string Current, string Subject, string KeyStore, DateTimeOffset? PreviousInUseUntil,
        int Instances, IReadOnlyList<string> Lagging);

    public async Task<Result> RollOverAsync(string actor, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AuthorityStore.CreationLockKey})", ct);
        var now = clock.GetUtcNow();
        var records = await db.Authorities.ToListAsync(ct);
        var rootRecord = records.SingleOrDefault(r => r.Role == AuthorityRole.Root)
            ?? throw new InvalidOperationException("There is no root CA yet: start the server once to initialize the PKI.");
        var previous = records.Single(r => AuthorityRole.IsIssuing(r.Role) && r.Active);

        using var root = CertificateAuthority.Load(rootRecord.CertificatePem, await OpenRootKeyAsync(rootRecord.KeyReference, actor, now, tx, ct));
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
        var (instances, lagging) = await WaitUntilInstancesSwitchAsync(role, ct);

        using var previousCertificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(previous.CertificatePem);
        var inUseUntil = await IssuingCaRetirement.LastExpiryAsync(db, previous.Role, previousCertificate, ct);
        return new Result(previous.Role, role, issuing.Certificate.Subject, kind, inUseUntil, instances, lagging);
    }

    /// <summary>The root key, for this ceremony only. When it cannot be opened (the offline file or token is not on this
    /// machine, a wrong passphrase or PIN) nothing is changed and the refusal is an audit row of its own.</summary>
    private async Task<ECDsa> OpenRootKeyAsync(string reference, string actor, DateTimeOffset now,
        Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction tx, CancellationToken ct)
    {
        try
        {
            return keys.Open(reference);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or InvalidOperationException
            or Net.Pkcs11Interop.Common.Pkcs11Exception)
        {
            await tx.RollbackAsync(ct);
            db.ChangeTracker.Clear();
            Audit("ca.rollover_refused", actor, now, $"the root key could not be opened from the {CaKeyStores.KindOf(reference)} store: {e.Message}");
            await db.SaveChangesAsync(ct);
            throw new InvalidOperationException($"Rollover refused, nothing changed: the root key could not be opened ({e.Message}). See docs/ca-keys.md, the offline root.", e);
        }
    }

    /// <summary>Returns once every live instance reports the new CA in its heartbeat row, so that a renewal the operator
    /// asks for next is signed by it wherever the device lands (an instance switches when it has reloaded on the notice).</summary>
    private async Task<(int Instances, IReadOnlyList<string> Lagging)> WaitUntilInstancesSwitchAsync(string role, CancellationToken ct)
    {
        var stale = clusterOptions.Value.HeartbeatInterval * 3;
        var deadline = clock.GetUtcNow() + SwitchPatience;
        while (true)
        {
            var liveSince = clock.GetUtcNow() - stale;
            var live = await db.Instances.AsNoTracking().Where(i => i.HeartbeatAt >= liveSince)
                .Select(i => new { i.Id, i.Host, i.IssuingCa }).ToListAsync(ct);
            var lagging = live.Where(i => i.IssuingCa != role).Select(i => $"{i.Host} ({i.Id})").ToList();
            if (lagging.Count == 0 || clock.GetUtcNow() >= deadline)
            {
                return (live.Count, lagging);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, ct);
        }
    }

    private void Audit(string action, string actor, DateTimeOffset now, string detail) =>
        db.AuditEvents.Add(new AuditEvent { At = now, Action = action, Actor = actor, Detail = detail });
}
