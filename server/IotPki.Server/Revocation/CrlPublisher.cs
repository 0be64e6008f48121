using System.Diagnostics;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Ca;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Revocation;

/// <summary>The current CRL of the issuing CA, kept in memory. Each request asks PostgreSQL a cheap question (how many
/// revoked certificates, the latest revocation time, the sum of reasons) over the partial index on <c>RevokedAt</c>;
/// when the answer changes — a revocation by any server instance on the database — or the CRL is older than half its
/// validity, it is rebuilt.</summary>
public sealed partial class CrlPublisher(
    IServiceScopeFactory scopes, PkiState pki, IOptions<RevocationOptions> options, RevocationMetrics metrics, TimeProvider clock, ILogger<CrlPublisher> logger)
{
    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private CrlBuilder? _builder;
    private volatile Published? _current;

    private sealed record Published(IssuedCrl Crl, RevocationFingerprint Fingerprint);

    /// <summary>What changes whenever the set of revoked certificates changes.</summary>
    public sealed record RevocationFingerprint(long Count, DateTimeOffset? Latest, long ReasonSum);

    public async Task<IssuedCrl> GetAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
        RevocationFingerprint fingerprint;
        try
        {
            fingerprint = await FingerprintAsync(db, ct);
        }
        catch (Exception e) when (DatabaseFailure.Is(e) && _current is { } last
            && clock.GetUtcNow() < last.Crl.NextUpdate && !ct.IsCancellationRequested)
        {
            // PostgreSQL is away: the last CRL is still valid until its nextUpdate, and better than none.
            LogServedStale(logger, e.GetType().Name);
            return last.Crl;
        }
        if (Fresh(_current, fingerprint) is { } crl)
        {
            return crl;
        }
        await _rebuild.WaitAsync(ct);
        try
        {
            // Another request may have rebuilt it meanwhile. The fingerprint is read before the entries, so a
            // revocation between the two only causes one more rebuild, never a stale CRL.
            fingerprint = await FingerprintAsync(db, ct);
            if (Fresh(_current, fingerprint) is { } rebuilt)
            {
                return rebuilt;
            }
            var watch = Stopwatch.StartNew();
            var now = clock.GetUtcNow();
            var entries = await RevokedEntriesAsync(db, now, ct);
            var queried = watch.ElapsedMilliseconds;
            _builder ??= new CrlBuilder(pki.Issuer.IssuingCa, clock);
            var issued = _builder.Build(entries, options.Value.CrlValidity);
            _current = new Published(issued, fingerprint);
            metrics.CrlBuilt(watch.Elapsed, issued.EntryCount, issued.Der.Length);
            LogRebuilt(logger, issued.Number.ToString(), issued.EntryCount, issued.Der.Length, watch.ElapsedMilliseconds, queried);
            return issued;
        }
        finally
        {
            _rebuild.Release();
        }
    }

    /// <summary>Revoked certificates not yet expired (RFC 5280 §5: a CRL need only list those), in the table's order
    /// (RFC 5280 asks for none, and sorting a million rows would cost the most). Read with a plain data reader: at a
    /// million rows, EF Core's materializer cost more than the query.</summary>
    private static async Task<List<RevokedCertificate>> RevokedEntriesAsync(IotPkiDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT "Serial", coalesce("RevokedAt", "IssuedAt"), "RevocationReason" FROM certificates
                WHERE "Status" = 'revoked' AND "NotAfter" > @now
                """;
            var parameter = command.CreateParameter();
            parameter.ParameterName = "now";
            parameter.Value = now;
            command.Parameters.Add(parameter);
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

    private static async Task<RevocationFingerprint> FingerprintAsync(IotPkiDbContext db, CancellationToken ct)
    {
        var rows = await db.Database.SqlQueryRaw<RevocationFingerprint>(
            """
            SELECT count(*) AS "Count", max("RevokedAt") AS "Latest", coalesce(sum(coalesce("RevocationReason", 0)), 0)::bigint AS "ReasonSum"
            FROM certificates WHERE "RevokedAt" IS NOT NULL AND "Status" = 'revoked'
            """).ToListAsync(ct);
        return rows.Single();
    }

    [LoggerMessage(LogLevel.Warning, "Revocation state unreadable ({Error}); served the last CRL")]
    private static partial void LogServedStale(ILogger logger, string error);

    [LoggerMessage(LogLevel.Information, "CRL {Number} built: {Entries} entries, {Bytes} bytes, {Milliseconds} ms ({QueryMilliseconds} ms reading them)")]
    private static partial void LogRebuilt(ILogger logger, string number, int entries, int bytes, long milliseconds, long queryMilliseconds);
}
