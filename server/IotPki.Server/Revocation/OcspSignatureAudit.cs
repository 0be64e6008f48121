using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Revocation;

/// <summary>Every OCSP answer is a signature with an issuing CA's key. A row per answer would cost more than the answer
/// (thousands a second), so each instance writes one <c>ocsp.signed</c> audit row per issuing CA per
/// <see cref="RevocationOptions.OcspAuditInterval"/> with how many it signed, and a last one when it stops. Counts a
/// write could not store (PostgreSQL away) are carried into the next row, not lost.</summary>
public sealed partial class OcspSignatureAudit(
    IServiceScopeFactory scopes, ClusterInstance instance, IOptions<RevocationOptions> options, TimeProvider clock, ILogger<OcspSignatureAudit> logger)
    : BackgroundService
{
    public const string Action = "ocsp.signed";

    private readonly ConcurrentDictionary<string, StrongBox<long>> _signed = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private DateTimeOffset _since = clock.GetUtcNow();

    /// <summary>Counts one answer signed with the issuing CA named <paramref name="issuer"/>.</summary>
    public void Signed(string issuer) => Interlocked.Increment(ref CountOf(issuer).Value);

    private StrongBox<long> CountOf(string issuer) => _signed.GetOrAdd(issuer, _ => new StrongBox<long>());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.OcspAuditInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await WriteAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the counts since the last row are written below.
        }
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await WriteAsync(last.Token);
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(CancellationToken.None);
        try
        {
            var now = clock.GetUtcNow();
            var taken = new List<(string Issuer, long Count)>();
            foreach (var (issuer, count) in _signed)
            {
                if (Interlocked.Exchange(ref count.Value, 0) is var n and > 0)
                {
                    taken.Add((issuer, n));
                }
            }
            if (taken.Count == 0)
            {
                _since = now;
                return;
            }
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
                foreach (var (issuer, n) in taken)
                {
                    AuditLog.Add(db, now, Action, "system",
                        detail: $"{n} OCSP answers signed with {issuer} from {_since:u} to {now:u} by instance {instance.Host} ({instance.Id})");
                }
                await db.SaveChangesAsync(ct);
                _since = now;
            }
            catch (Exception e) when (DatabaseFailure.Is(e) || e is Microsoft.EntityFrameworkCore.DbUpdateException or OperationCanceledException)
            {
                foreach (var (issuer, n) in taken)
                {
                    Interlocked.Add(ref CountOf(issuer).Value, n);
                }
                LogDeferred(logger, taken.Sum(t => t.Count), e.GetType().Name);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not write the audit row of {Count} OCSP signatures ({Error}); the next row carries them")]
    private static partial void LogDeferred(ILogger logger, long count, string error);
}
