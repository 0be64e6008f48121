using IotPki.Identity;
using IotPki.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Audit log filters, newest first, keyset-paged by id: for the API and the audit page alike.</summary>
public sealed record AuditQuery(string? DeviceId, string? Action, string? Actor, DateTimeOffset? Since, long? Before, int Limit)
{
    public async Task<Page<AuditEventView>> RunAsync(IotPkiDbContext db, CancellationToken ct)
    {
        var events = db.AuditEvents.AsNoTracking();
        if (DeviceId is not null)
        {
            // No row names a device by an id that is not one.
            var id = IotPki.Identity.DeviceId.TryParse(DeviceId, out var parsed) ? parsed : (DeviceId?)null;
            events = id is null ? events.Where(a => false) : events.Where(a => a.DeviceId == id);
        }
        if (Action is not null) { events = events.Where(a => a.Action == Action); }
        if (Actor is not null) { events = events.Where(a => a.Actor == Actor); }
        if (Since is not null) { events = events.Where(a => a.At >= Since); }
        if (Before is not null) { events = events.Where(a => a.Id < Before); }
        var items = await events.OrderByDescending(a => a.Id).Take(Limit + 1).Select(AuditEventView.FromEntity).ToListAsync(ct);
        var next = items.Count > Limit ? items[Limit - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return new Page<AuditEventView>(items.Take(Limit).ToList(), next);
    }
}
