using Hangfire;
using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IotPki.Server.Renewal;

/// <summary>The recurring pass (Hangfire <c>renewal:plan</c>, once per interval across all instances): escalates
/// devices past their at-risk fraction or notAfter, then pages the online devices that are due by slot over the
/// (status, slot) index; up to <see cref="BatchSize"/> it asks them itself, more it hands to one
/// <see cref="RenewalAskBatch"/> job per <see cref="BatchSize"/>: never a job per certificate. One pass asks at most <c>AsksPerSecond × PlannerInterval</c>: the fleet-wide rate limit.
/// Whatever a pass leaves (over the limit, a failed batch, a lost NOTIFY) is still due on the next.</summary>
public sealed partial class RenewalPlanner(IotPkiDbContext db, DeviceLifecycle lifecycle, IBackgroundJobClient jobs,
    IOptions<RenewalOptions> options, TimeProvider clock, ILogger<RenewalPlanner> logger)
{
    public const string RecurringJobId = "renewal:plan";
    public const int BatchSize = 1000;

    /// <param name="Batches">Ask jobs enqueued: none when the pass asked its devices itself.</param>
    public sealed record Pass(int AtRisk, int Expired, int Due, int Batches);

    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<Pass> RunAsync(CancellationToken ct)
    {
        var o = options.Value;
        var budget = (int)Math.Min(int.MaxValue, o.AsksPerSecond * o.PlannerInterval.TotalSeconds);
        var (atRisk, expired) = await lifecycle.EscalateAsync(budget, ct);
        var due = await DueAsync(budget, ct);
        var batches = 0;
        if (due.Count <= BatchSize)
        {
            var ids = due.Select(DeviceId.Parse).ToList();
            await lifecycle.AskRenewalsAsync(ids, onlineOnly: true, DeviceLifecycle.PlannerActor, ct);
        }
        else
        {
            foreach (var batch in due.Chunk(BatchSize))
            {
                jobs.Enqueue<RenewalAskBatch>(b => b.RunAsync(batch, CancellationToken.None));
                batches++;
            }
        }
        if (atRisk + expired + due.Count > 0)
        {
            LogPass(logger, due.Count, batches, atRisk, expired);
        }
        return new Pass(atRisk, expired, due.Count, batches);
    }

    /// <summary>The online devices due now, at most <paramref name="limit"/>: at-risk ones first, then those asked
    /// before and not renewed, then those whose slot has come; oldest slot first within each. One ordered index range
    /// per status, and each candidate's device looked up by key (OFFSET 0 keeps PostgreSQL from turning that into a
    /// hash join over every device), so a pass reads about the rows it asks, not the fleet, however large the backlog.</summary>
    public async Task<List<string>> DueAsync(int limit, CancellationToken ct) =>
        await db.Database.SqlQueryRaw<string>(DueSql,
            new NpgsqlParameter("now", clock.GetUtcNow()), new NpgsqlParameter("reask", options.Value.ReaskAfter),
            new NpgsqlParameter("limit", limit)).ToListAsync(ct);

    private static readonly string DueSql = $"""
        SELECT "DeviceId" AS "Value" FROM (
            {Branch(0, "'at-risk'", """r."NotAfter" > @now""")}
            UNION ALL {Branch(1, "'asked'", """r."NotAfter" > @now""")}
            UNION ALL {Branch(2, "'scheduled'", """r."SlotAt" <= @now""")}
            UNION ALL {Branch(2, "'renewed'", """r."SlotAt" <= @now""")}
        ) due ORDER BY "Urgency", "SlotAt" LIMIT @limit
        """;

    private static string Branch(int urgency, string status, string range) => $"""
        (SELECT r."DeviceId", {urgency} AS "Urgency", r."SlotAt" FROM device_renewals r
         CROSS JOIN LATERAL (SELECT "State", "Online" FROM devices WHERE "Id" = r."DeviceId" OFFSET 0) d
         WHERE r."Status" = {status} AND {range} AND d."Online" AND {RenewalDue.Predicate}
         ORDER BY r."SlotAt" LIMIT @limit)
        """;

    [LoggerMessage(LogLevel.Information, "Renewal pass: {Due} devices due in {Batches} batches; {AtRisk} now at risk, {Expired} expired")]
    private static partial void LogPass(ILogger logger, int due, int batches, int atRisk, int expired);
}
