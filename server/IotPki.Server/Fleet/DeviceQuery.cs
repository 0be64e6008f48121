using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Device list filters, keyset-paged by id so that a page costs the same at a million rows as at ten.</summary>
public sealed record DeviceQuery(DeviceState? State, string? Manufacturer, DateTimeOffset? ExpiringBefore, DateTimeOffset? LastSeenBefore, DeviceId? After, int Limit)
{
    public const int MaxLimit = 1000;

    /// <summary>Only devices whose renewal cycle stands here (<c>at-risk</c>, <c>expired</c>, …).</summary>
    public RenewalStatus? Renewal { get; init; }

    /// <summary>The <c>after</c> cursor of a request: absent, or the <c>next</c> of an earlier page (a device id).</summary>
    public static bool TryParseCursor(string? after, out DeviceId? cursor)
    {
        cursor = null;
        if (after is null)
        {
            return true;
        }
        if (!DeviceId.TryParse(after, out var id))
        {
            return false;
        }
        cursor = id;
        return true;
    }

    /// <summary>The one rule for <c>limit</c> on every list route: 1 to <see cref="MaxLimit"/>, else a 400.</summary>
    public static Microsoft.AspNetCore.Mvc.ProblemDetails? LimitProblem(int limit) =>
        limit is < 1 or > MaxLimit ? Problems.BadRequest($"limit must be between 1 and {MaxLimit}.") : null;

    public const string BadCursor = "after must be the next of an earlier page (a device id).";

    public async Task<Page<DeviceView>> RunAsync(IotPkiDbContext db, CancellationToken ct)
    {
        var devices = db.Devices.AsNoTracking();
        if (State is not null)
        {
            devices = devices.Where(d => d.State == State);
        }
        if (Manufacturer is not null)
        {
            devices = devices.Where(d => d.Manufacturer!.Name == Manufacturer);
        }
        if (LastSeenBefore is { } seen)
        {
            devices = devices.Where(d => d.LastSeenAt == null || d.LastSeenAt < seen);
        }
        if (ExpiringBefore is { } expiring)
        {
            devices = devices.Where(d => db.Certificates.Any(c => c.DeviceId == d.Id && c.Status == CertificateStatus.Valid && c.NotAfter < expiring)
                && !db.Certificates.Any(c => c.DeviceId == d.Id && c.Status == CertificateStatus.Valid && c.NotAfter >= expiring));
        }
        if (Renewal is { } renewal)
        {
            devices = devices.Where(d => db.Renewals.Any(r => r.DeviceId == d.Id && r.Status == renewal));
        }
        if (After is { } after)
        {
            devices = devices.Where(d => d.Id > after);
        }
        var items = await devices.OrderBy(d => d.Id).Take(Limit + 1).Select(DeviceView.From(db.Certificates, db.Renewals)).ToListAsync(ct);
        var next = items.Count > Limit ? items[Limit - 1].Id.Value : null;
        return new Page<DeviceView>(items.Take(Limit).ToList(), next);
    }
}
