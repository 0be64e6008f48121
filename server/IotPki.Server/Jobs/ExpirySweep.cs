using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Jobs;

/// <summary>Marks certificates past their notAfter as expired, a batch at a time over the index on expiry, so that
/// fleet views and the CRL stop carrying them. Re-entrant: a second run finds nothing left to do.</summary>
public sealed partial class ExpirySweep(IotPkiDbContext db, TimeProvider clock, ILogger<ExpirySweep> logger)
{
    public const string RecurringJobId = "certificates:expiry-sweep";
    public const int BatchSize = 1000;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var total = 0;
        while (true)
        {
            var batch = await db.Certificates
                .Where(c => c.Status == CertificateStatus.Valid && c.NotAfter < now)
                .OrderBy(c => c.NotAfter)
                .Select(c => c.Serial)
                .Take(BatchSize)
                .ToListAsync(ct);
            if (batch.Count == 0)
            {
                break;
            }
            total += await db.Certificates
                .Where(c => batch.Contains(c.Serial) && c.Status == CertificateStatus.Valid)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CertificateStatus.Expired), ct);
        }
        if (total > 0)
        {
            LogExpired(logger, total);
        }
        return total;
    }

    [LoggerMessage(LogLevel.Information, "Expiry sweep marked {Count} certificates expired")]
    private static partial void LogExpired(ILogger logger, int count);
}
