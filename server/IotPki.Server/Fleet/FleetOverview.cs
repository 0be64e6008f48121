using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>The figures of the overview page: devices by state, online now, valid device certificates expiring per
/// day for the next <see cref="ExpiryDays"/> days, renewal cycles by status, and EST answers per hour for the last day.</summary>
public sealed record FleetOverview(
    IReadOnlyDictionary<DeviceState, long> DevicesByState,
    long OnlineNow,
    IReadOnlyList<FleetOverview.DayCount> ExpiringPerDay,
    IReadOnlyDictionary<RenewalStatus, long> RenewalsByStatus,
    IReadOnlyList<FleetOverview.HourCounts> EnrollmentsPerHour)
{
    public const int ExpiryDays = 60;

    public sealed record DayCount(DateOnly Day, long Count);

    public sealed record HourCounts(DateTimeOffset Hour, long Issued, long Refused);

    public static async Task<FleetOverview> LoadAsync(IotPkiDbContext db, DateTimeOffset now, CancellationToken ct)
    {
        var states = await db.Devices.GroupBy(d => d.State).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        var online = await db.Devices.LongCountAsync(d => d.Online, ct);
        var renewals = await db.Renewals.GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        var today = now.UtcDateTime.Date;
        var until = today.AddDays(ExpiryDays);
        var expiring = await db.Database.SqlQuery<DayRow>($"""
            SELECT date_trunc('day', "NotAfter" AT TIME ZONE 'UTC') AS "Day", count(*) AS "Count"
            FROM certificates
            WHERE "DeviceId" IS NOT NULL AND "Status" = {CertificateStatus.Valid} AND "NotAfter" >= {now} AND "NotAfter" < {new DateTimeOffset(until, TimeSpan.Zero)}
            GROUP BY 1
            """).ToListAsync(ct);
        var since = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour - 23), TimeSpan.Zero);
        var answers = await db.Database.SqlQuery<HourRow>($"""
            SELECT date_trunc('hour', "At" AT TIME ZONE 'UTC') AS "Hour",
                   count(*) FILTER (WHERE "Outcome" = 'issued') AS "Issued",
                   count(*) FILTER (WHERE "Outcome" = 'refused') AS "Refused"
            FROM enrollment_attempts
            WHERE "At" >= {since}
            GROUP BY 1
            """).ToListAsync(ct);

        var perDay = expiring.ToDictionary(r => DateOnly.FromDateTime(r.Day), r => r.Count);
        var perHour = answers.ToDictionary(r => r.Hour, r => r);
        return new FleetOverview(
            DeviceStateNames.All.ToDictionary(s => s, s => states.FirstOrDefault(x => x.Key == s)?.Count ?? 0),
            online,
            [.. Enumerable.Range(0, ExpiryDays).Select(d => DateOnly.FromDateTime(today.AddDays(d)))
                .Select(day => new DayCount(day, perDay.GetValueOrDefault(day)))],
            RenewalStatusNames.All.ToDictionary(s => s, s => renewals.FirstOrDefault(x => x.Key == s)?.Count ?? 0),
            [.. Enumerable.Range(0, 24).Select(h => since.UtcDateTime.AddHours(h))
                .Select(hour => perHour.TryGetValue(hour, out var row)
                    ? new HourCounts(new DateTimeOffset(hour, TimeSpan.Zero), row.Issued, row.Refused)
                    : new HourCounts(new DateTimeOffset(hour, TimeSpan.Zero), 0, 0))]);
    }

    private sealed record DayRow(DateTime Day, long Count);

    private sealed record HourRow(DateTime Hour, long Issued, long Refused);
}
