using IotPki.Server.Data;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;

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
            return TypedResults.Ok(await new AuditQuery(deviceId, action, actor, since, before, limit).RunAsync(db, ct));
        }).WithTags("Audit").RequireAuthorization(OperatorRole.CanRead);
    }
}
