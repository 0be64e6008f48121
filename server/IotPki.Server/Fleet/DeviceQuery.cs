using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Device list filters, keyset-paged by id so that a page costs the same at a million rows as at ten.</summary>
public sealed record DeviceQuery(string? State, string? Manufacturer, DateTimeOffset? ExpiringBefore, DateTimeOffset? LastSeenBefore, string? After, int Limit)
{
    public const int MaxLimit = 1000;

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
        if (After is not null)
        {
            devices = devices.Where(d => string.Compare(d.Id, After) > 0);
        }
        var items = await devices.OrderBy(d => d.Id).Take(Limit + 1).Select(DeviceView.From(db.Certificates)).ToListAsync(ct);
        var next = items.Count > Limit ? items[Limit - 1].Id : null;
        return new Page<DeviceView>(items.Take(Limit).ToList(), next);
    }
}
