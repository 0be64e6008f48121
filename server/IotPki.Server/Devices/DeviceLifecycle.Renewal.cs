using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Cluster;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IotPki.Server.Devices;

/// <summary>The renewal transitions: ask (scheduled|renewed|asked → asked), escalate (→ at-risk → expired), and what a
/// connect proves (older certificates superseded, a due ask sent now).</summary>
public sealed partial class DeviceLifecycle
{
    public const string PlannerActor = "service:renewal-planner";

    /// <summary>Asks those of <paramref name="ids"/> that are due: each is claimed in one statement (so two instances,
    /// or a planner and a connect, never ask one device twice in one slot), audited, and announced to the instance
    /// holding its session. <paramref name="onlineOnly"/>: leave offline devices due, to be asked when they connect.
    /// The devices are read by key, as the renewal rows are (joined whole, PostgreSQL hash-joined a scan of the fleet).
    /// Returns the ids asked.</summary>
    public async Task<IReadOnlyList<DeviceId>> AskRenewalsAsync(IReadOnlyCollection<DeviceId> ids, bool onlineOnly, string actor, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var now = clock.GetUtcNow();
        var options = renewal.Value;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var claimed = await db.Database.SqlQueryRaw<ClaimedAsk>($"""
            WITH claimed AS (
                UPDATE device_renewals r
                SET "Status" = CASE WHEN r."Status" = 'at-risk' THEN 'at-risk' ELSE 'asked' END,
                    "AskedAt" = @now, "AskCount" = r."AskCount" + 1
                FROM (SELECT "Id", "State", "Online" FROM devices WHERE "Id" = ANY(@ids)) d
                WHERE d."Id" = r."DeviceId" AND r."DeviceId" = ANY(@ids) AND (NOT @onlineOnly OR d."Online")
                  AND {RenewalDue.Predicate}
                RETURNING r."DeviceId", r."AskCount", r."AtRiskAt", r."NotAfter"),
            audited AS (
                INSERT INTO audit_events ("At", "Action", "Actor", "DeviceId", "Detail")
                SELECT @now, 'renewal.asked', @actor, "DeviceId", 'ask ' || "AskCount" || ', renew before ' || to_char("AtRiskAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"')
                FROM claimed)
            SELECT "DeviceId", "AskCount", "AtRiskAt", "NotAfter" FROM claimed
            """,
            new NpgsqlParameter("now", now), new NpgsqlParameter("reask", options.ReaskAfter),
            new NpgsqlParameter("ids", ids.Select(i => i.Value).ToArray()), new NpgsqlParameter("onlineOnly", onlineOnly),
            new NpgsqlParameter("actor", actor)).ToListAsync(ct);
        var notices = claimed.Select(c =>
        {
            var jitter = TimeSpan.FromTicks(Math.Max(0, Math.Min(options.MaxAskJitter.Ticks, (c.AtRiskAt - now).Ticks / 4)));
            return new DeviceCommandNotice(DeviceId.Parse(c.DeviceId), DeviceCommandNotice.Renew, actor, now, c.AtRiskAt, (int)jitter.TotalSeconds);
        }).ToList();
        foreach (var notice in notices)
        {
            await cluster.NotifyAsync(db, DeviceCommandNotice.Channel, notice.ToJson(), ct);
        }
        await tx.CommitAsync(ct);
        metrics.Asked(notices.Count, actor);
        return [.. notices.Select(n => n.DeviceId)];
    }

    /// <summary>Moves devices past their at-risk fraction to <c>at-risk</c> and past notAfter to <c>expired</c>, a bounded
    /// batch each, with an audit row per device. Returns how many moved.</summary>
    public async Task<(int AtRisk, int Expired)> EscalateAsync(int batch, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var expired = await MoveAsync(RenewalStatus.Expired, "renewal.expired", """
            r."Status" IN ('scheduled', 'asked', 'renewed', 'at-risk') AND r."NotAfter" <= @now
            """, "NotAfter", "'certificate ' || r.\"CertificateSerial\" || ' expired without renewal'", now, batch, ct);
        var atRisk = await MoveAsync(RenewalStatus.AtRisk, "renewal.at-risk", """
            r."Status" IN ('scheduled', 'asked', 'renewed') AND r."AtRiskAt" <= @now AND r."NotAfter" > @now
            """, "AtRiskAt", "'not renewed, certificate ' || r.\"CertificateSerial\" || ' expires ' || to_char(r.\"NotAfter\" AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS\"Z\"')",
            now, batch, ct);
        metrics.Escalated(atRisk, RenewalStatus.AtRisk.Name());
        metrics.Escalated(expired, RenewalStatus.Expired.Name());
        return (atRisk, expired);
    }

    /// <param name="orderBy">The column of the (Status, column) index the candidates are read by, oldest first: the pass
    /// reads the rows it moves and not the fleet (an IN-subquery let PostgreSQL merge-join the whole table instead).
    /// OFFSET 0 keeps the device check a lookup by key per candidate: as a semi-join, a large backlog made it a scan
    /// of every device.</param>
    private async Task<int> MoveAsync(RenewalStatus to, string action, string where, string orderBy, string detail, DateTimeOffset now, int batch,
        CancellationToken ct)
    {
        var sql = $"""
            WITH moved AS (
                UPDATE device_renewals t SET "Status" = @to
                WHERE t."DeviceId" = ANY(ARRAY(
                    SELECT r."DeviceId" FROM device_renewals r
                    WHERE {where} AND EXISTS (SELECT 1 FROM devices d WHERE d."Id" = r."DeviceId" AND d."State" = 'active' OFFSET 0)
                    ORDER BY r."{orderBy}" LIMIT @batch))
                RETURNING t.*)
            INSERT INTO audit_events ("At", "Action", "Actor", "DeviceId", "Detail")
            SELECT @now, @action, @actor, r."DeviceId", {detail} FROM moved r
            """;
        return await db.Database.ExecuteSqlRawAsync(sql, [
            new NpgsqlParameter("to", to.Name()), new NpgsqlParameter("now", now), new NpgsqlParameter("batch", batch),
            new NpgsqlParameter("action", action), new NpgsqlParameter("actor", PlannerActor)], ct);
    }

    /// <summary>What devices' connects prove: each connected with its newest certificate, so the older ones are
    /// superseded (they may neither renew nor connect again: a second holder is a clone).</summary>
    public async Task ConnectedAsync(IReadOnlyCollection<(DeviceId Device, string Serial)> connected, CancellationToken ct)
    {
        if (connected.Count == 0)
        {
            return;
        }
        var now = clock.GetUtcNow();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var superseded = await db.Database.SqlQueryRaw<SupersededCertificate>("""
                WITH proven AS (
                    SELECT s.id, n."IssuedAt" FROM unnest(@ids, @serials) AS s(id, serial)
                    JOIN certificates n ON n."Serial" = s.serial AND n."DeviceId" = s.id),
                superseded AS (
                    UPDATE certificates c SET "Status" = 'superseded'
                    FROM proven p
                    WHERE c."DeviceId" = p.id AND c."Status" = 'valid' AND c."IssuedAt" < p."IssuedAt"
                    RETURNING c."DeviceId", c."Serial"),
                audited AS (
                    INSERT INTO audit_events ("At", "Action", "Actor", "DeviceId", "Detail")
                    SELECT @now, 'certificate.superseded', 'device:' || "DeviceId", "DeviceId",
                           'serial ' || "Serial" || ': a newer certificate connected; this one may no longer renew or connect'
                    FROM superseded)
                SELECT "DeviceId", "Serial" FROM superseded
                """,
                new NpgsqlParameter("ids", connected.Select(c => c.Device.Value).ToArray()),
                new NpgsqlParameter("serials", connected.Select(c => c.Serial).ToArray()),
                new NpgsqlParameter("now", now)).ToListAsync(ct);
            var notices = superseded.GroupBy(s => s.DeviceId)
                .Select(g => new RevocationNotice(DeviceId.Parse(g.Key), DeviceState.Active, [.. g.Select(s => s.Serial)], KeepSessions: true))
                .ToList();
            foreach (var notice in notices)
            {
                await cluster.NotifyAsync(db, RevocationNotice.Channel, notice.ToJson(), ct);
            }
            await tx.CommitAsync(ct);
            foreach (var notice in notices)
            {
                await cluster.ApplyHereAsync(RevocationNotice.Channel, notice.ToJson());
            }
        }
    }

    /// <summary>Moves the slots of a population's active devices to points spread over [now, now + within) (a hash of
    /// the id and the campaign), so the planner asks them at the same rate limit as scheduled renewals. One audit row
    /// for the campaign. Returns how many devices it holds.</summary>
    public async Task<RenewalCampaign> StartCampaignAsync(string? manufacturer, DateTimeOffset? issuedBefore, TimeSpan within,
        string population, string actor, string? source, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var campaign = new RenewalCampaign { CreatedAt = now, Actor = actor, Population = population, Within = within };
        db.RenewalCampaigns.Add(campaign);
        await db.SaveChangesAsync(ct);
        campaign.Devices = await db.Database.ExecuteSqlRawAsync("""
            UPDATE device_renewals r
            SET "SlotAt" = @now + @within * (('x' || substr(md5(r."DeviceId" || '/' || @campaign::text), 1, 12))::bit(48)::bigint / 281474976710656.0),
                "Status" = 'scheduled', "AskedAt" = NULL, "AskCount" = 0, "CampaignId" = @campaign
            FROM devices d JOIN manufacturers m ON m."Id" = d."ManufacturerId"
            WHERE d."Id" = r."DeviceId" AND d."State" = 'active' AND r."NotAfter" > @now
              AND (@manufacturer::text IS NULL OR m."Name" = @manufacturer::text)
              AND (@issuedBefore::timestamptz IS NULL OR r."NotBefore" < @issuedBefore::timestamptz)
            """, [
            new NpgsqlParameter("now", now), new NpgsqlParameter("within", within), new NpgsqlParameter("campaign", campaign.Id),
            new NpgsqlParameter("manufacturer", (object?)manufacturer ?? DBNull.Value),
            new NpgsqlParameter("issuedBefore", (object?)issuedBefore ?? DBNull.Value)], ct);
        Data.AuditLog.Add(db, now, "renewal.campaign", actor, sourceAddress: source,
            detail: $"campaign {campaign.Id}: {population}, {campaign.Devices} device(s) within {within}");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return campaign;
    }

    private sealed class ClaimedAsk
    {
        public string DeviceId { get; set; } = "";
        public int AskCount { get; set; }
        public DateTimeOffset AtRiskAt { get; set; }
        public DateTimeOffset NotAfter { get; set; }
    }

    private sealed class SupersededCertificate
    {
        public string DeviceId { get; set; } = "";
        public string Serial { get; set; } = "";
    }
}
