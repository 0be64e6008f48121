using System.Collections.Concurrent;
using IotPki.Pki;
using IotPki.Server.Cluster;

namespace IotPki.Server.Revocation;

/// <summary>The OCSP responder's status lookups, kept in memory: the database is asked only for serials not seen
/// lately. A revocation notice (sent by the revoking instance in the revocation's own commit, applied here at once on
/// that instance and on NOTIFY's arrival elsewhere) drops the serials it names, so a revoked certificate is never
/// answered good from memory. A lookup that began before a notice stores nothing (it may have read the row before the
/// revocation committed); after the listener reconnects, everything is dropped. Unknown serials are never kept.</summary>
public sealed class CertificateStatusCache(CertificateStatusStore store, TimeProvider clock) : ICertificateStatusSource, IClusterNoticeHandler
{
    /// <summary>Past this many serials the cache starts again empty: memory stays bounded at a few MB.</summary>
    public const int MaxEntries = 200_000;

    /// <summary>A backstop only: notices are what keep entries true.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (KnownCertificate Known, DateTimeOffset Until)> _entries = new(StringComparer.Ordinal);
    private long _generation;

    public string Channel => RevocationNotice.Channel;

    public async Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var found = new List<KnownCertificate>(serialsHex.Count);
        List<string>? missing = null;
        foreach (var serial in serialsHex)
        {
            if (_entries.TryGetValue(serial, out var entry) && entry.Until > now)
            {
                found.Add(entry.Known);
            }
            else
            {
                (missing ??= []).Add(serial);
            }
        }
        if (missing is null)
        {
            return found;
        }
        var generation = Interlocked.Read(ref _generation);
        var read = await store.FindAsync(missing, ct);
        found.AddRange(read);
        if (Interlocked.Read(ref _generation) == generation)
        {
            if (_entries.Count + read.Count > MaxEntries)
            {
                _entries.Clear();
            }
            foreach (var known in read)
            {
                _entries[known.SerialHex] = (known, now + Lifetime);
            }
        }
        return found;
    }

    public Task HandleAsync(string payload)
    {
        Interlocked.Increment(ref _generation);
        if (RevocationNotice.Parse(payload) is { Serials.Length: > 0 } notice)
        {
            foreach (var serial in notice.Serials)
            {
                _entries.TryRemove(serial.ToLowerInvariant(), out _);
            }
        }
        else
        {
            // A notice naming the device only (too many serials for one NOTIFY), or one we cannot read.
            _entries.Clear();
        }
        return Task.CompletedTask;
    }

    public Task ResyncAsync(CancellationToken ct)
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
        return Task.CompletedTask;
    }
}
