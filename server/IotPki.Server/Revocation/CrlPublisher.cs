using System.Diagnostics;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Ca;
using IotPki.Server.Cluster;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Revocation;

/// <summary>The current CRL of each issuing CA (its own CRL per issuer: after a rollover the earlier CA's certificates
/// stay on the earlier CA's CRL), kept in memory. Each request asks PostgreSQL a cheap question (how many revoked
/// certificates, the latest revocation time, the sum of reasons) over the partial index on <c>RevokedAt</c>; when the
/// answer changes — a revocation by any server instance on the database — or the CRL is older than half its validity,
/// it is rebuilt.</summary>
public sealed partial class CrlPublisher(
    IServiceScopeFactory scopes, PkiState pki, ClusterInstance instance, IOptions<RevocationOptions> options, RevocationMetrics metrics, TimeProvider clock, ILogger<CrlPublisher> logger)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IssuerCrl> _issuers = new(StringComparer.Ordinal);

    private sealed record Published(IssuedCrl Crl, RevocationFingerprint Fingerprint);

    /// <summary>The CRL state of one issuing CA.</summary>
    private sealed class IssuerCrl(IssuingAuthority authority, TimeProvider clock)
    {
        public SemaphoreSlim Rebuild { get; } = new(1, 1);
        public CrlBuilder Builder { get; } = new(authority.Ca, clock);
        public volatile Published? Current;
    }

    /// <summary>What changes whenever the set of revoked certificates changes.</summary>
    public sealed record RevocationFingerprint(long Count, DateTimeOffset? Latest, long ReasonSum);

    /// <summary>The CRL of the issuing CA named <paramref name="issuerName"/> (<c>issuing</c>, <c>issuing-…</c>); null when
    /// no issuing CA in use has that name.</summary>
    public Task<IssuedCrl>? GetAsync(string issuerName, CancellationToken ct) =>
        pki.Authorities.FirstOrDefault(a => a.Name == issuerName) is { } authority ? GetAsync(authority, ct) : null;

    private async Task<IssuedCrl> GetAsync(IssuingAuthority authority, CancellationToken ct)
    {
        // A key id names one CA for good (its certificate and key never change): its CRL state outlives reloads.
        var issuer = _issuers.GetOrAdd(authority.KeyId, _ => new IssuerCrl(authority, clock));
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        RevocationFingerprint fingerprint;
        try
        {
            fingerprint = await FingerprintAsync(db, authority, ct);
        }
        catch (Exception e) when (DatabaseFailure.Is(e) && issuer.Current is { } last
            && clock.GetUtcNow() < last.Crl.NextUpdate && !ct.IsCancellationRequested)
        {
            // PostgreSQL is away: the last CRL is still valid until its nextUpdate, and better than none.
            LogServedStale(logger, e.GetType().Name);
            return last.Crl;
        }
        if (Fresh(issuer.Current, fingerprint) is { } crl)
        {
            return crl;
        }
        await issuer.Rebuild.WaitAsync(ct);
        try
        {
            // Another request may have rebuilt it meanwhile. The fingerprint is read before the entries, so a
            // revocation between the two only causes one more rebuild, never a stale CRL.
            fingerprint = await FingerprintAsync(db, authority, ct);
            if (Fresh(issuer.Current, fingerprint) is { } rebuilt)
            {
                return rebuilt;
            }
            var watch = Stopwatch.StartNew();
            var now = clock.GetUtcNow();
            var entries = await RevokedEntriesAsync(db, authority, now, ct);
            var queried = watch.ElapsedMilliseconds;
            var issued = issuer.Builder.Build(entries, options.Value.CrlValidity);
            // A CRL signature is a CA key operation: audited before the CRL is served.
            AuditLog.Add(db, now, "crl.signed", "system", detail:
                $"CRL {issued.Number} of {authority.Name}: {issued.EntryCount} entries, next update {issued.NextUpdate:u}, by instance {instance.Host} ({instance.Id})");
            await db.SaveChangesAsync(ct);
            issuer.Current = new Published(issued, fingerprint);
            metrics.CrlBuilt(watch.Elapsed, issued.EntryCount, issued.Der.Length);
            LogRebuilt(logger, authority.Name, issued.Number.ToString(), issued.EntryCount, issued.Der.Length, watch.ElapsedMilliseconds, queried);
            return issued;
        }
        finally
        {
            issuer.Rebuild.Release();
        }
    }

    /// <summary>Revoked certificates not yet expired (RFC 5280 §5: a CRL need only list those), in the table's order
    /// (RFC 5280 asks for none, and sorting a million rows would cost the most). Read with a plain data reader: at a
    /// million rows, EF Core's materializer cost more than the query.</summary>
    private static async Task<List<RevokedCertificate>> RevokedEntriesAsync(IotPkiDbContext db, IssuingAuthority authority, DateTimeOffset now, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT "Serial", coalesce("RevokedAt", "IssuedAt"), "RevocationReason" FROM certificates
                WHERE "Status" = 'revoked' AND "NotAfter" > @now
                  AND ("IssuerKeyId" = @issuer OR (@unrecorded AND "IssuerKeyId" IS NULL))
                """;
            foreach (var (name, value) in new (string, object)[] { ("now", now), ("issuer", authority.KeyId), ("unrecorded", authority.OwnsUnrecordedRows) })
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }
            var entries = new List<RevokedCertificate>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                entries.Add(new RevokedCertificate(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2)));
            }
            return entries;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private IssuedCrl? Fresh(Published? current, RevocationFingerprint fingerprint) =>
        current is not null && current.Fingerprint == fingerprint
            && clock.GetUtcNow() - current.Crl.ThisUpdate < options.Value.CrlValidity / 2
            ? current.Crl
            : null;

    private static async Task<RevocationFingerprint> FingerprintAsync(IotPkiDbContext db, IssuingAuthority authority, CancellationToken ct)
    {
        var rows = await db.Database.SqlQuery<RevocationFingerprint>(
            $"""
            SELECT count(*) AS "Count", max("RevokedAt") AS "Latest", coalesce(sum(coalesce("RevocationReason", 0)), 0)::bigint AS "ReasonSum"
            FROM certificates WHERE "RevokedAt" IS NOT NULL AND "Status" = 'revoked'
              AND ("IssuerKeyId" = {authority.KeyId} OR ({authority.OwnsUnrecordedRows} AND "IssuerKeyId" IS NULL))
            """).ToListAsync(ct);
        return rows.Single();
    }

    [LoggerMessage(LogLevel.Warning, "Revocation state unreadable ({Error}); served the last CRL")]
    private static partial void LogServedStale(ILogger logger, string error);

    [LoggerMessage(LogLevel.Information, "CRL {Number} of {Issuer} built: {Entries} entries, {Bytes} bytes, {Milliseconds} ms ({QueryMilliseconds} ms reading them)")]
    private static partial void LogRebuilt(ILogger logger, string issuer, string number, int entries, int bytes, long milliseconds, long queryMilliseconds);
}
