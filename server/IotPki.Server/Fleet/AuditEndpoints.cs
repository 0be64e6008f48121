using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary><c>GET /api/v1/audit</c>: the append-only audit log, newest first, keyset-paged by id. Read-only by design.</summary>
public static class AuditEndpoints
{
    public static void MapAudit(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", async Task<Results<Ok<Page<AuditEventView>>, ProblemHttpResult>> (IotPkiDbContext db, CancellationToken ct,
            string? deviceId = null, string? action = null, string? actor = null, DateTimeOffset? since = null, long? before = null, int limit = 100) =>
        {
            if (DeviceQuery.LimitProblem(limit) is { } problem)
            {
                return TypedResults.Problem(problem);
            }
            var events = db.AuditEvents.AsNoTracking();
            if (deviceId is not null)
            {
                // No row names a device by an id that is not one.
                var id = DeviceId.TryParse(deviceId, out var parsed) ? parsed : (DeviceId?)null;
                events = id is null ? events.Where(a => false) : events.Where(a => a.DeviceId == id);
            }
            if (action is not null) { events = events.Where(a => a.Action == action); }
            if (actor is not null) { events = events.Where(a => a.Actor == actor); }
            if (since is not null) { events = events.Where(a => a.At >= since); }
            if (before is not null) { events = events.Where(a => a.Id < before); }
            var items = await events.OrderByDescending(a => a.Id).Take(limit + 1).Select(AuditEventView.FromEntity).ToListAsync(ct);
            var next = items.Count > limit ? items[limit - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            return TypedResults.Ok(new Page<AuditEventView>(items.Take(limit).ToList(), next));
        }).WithTags("Audit").RequireAuthorization(OperatorRole.CanRead);
    }
}
