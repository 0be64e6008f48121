using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary><c>/api/v1/enrollments</c>: devices awaiting approval, and the operator's answer.</summary>
public static class EnrollmentEndpoints
{
    public static void MapEnrollments(this RouteGroupBuilder api)
    {
        var enrollments = api.MapGroup("/enrollments").WithTags("Enrollments");
        enrollments.MapGet("/pending", async Task<Results<Ok<Page<DeviceView>>, ProblemHttpResult>> (
            IotPkiDbContext db, CancellationToken ct, string? after = null, int limit = 100) =>
            DeviceQuery.LimitProblem(limit) is { } problem ? TypedResults.Problem(problem)
            : DeviceQuery.TryParseCursor(after, out var cursor)
                ? TypedResults.Ok(await new DeviceQuery(DeviceState.Pending, null, null, null, cursor, limit).RunAsync(db, ct))
                : TypedResults.Problem(Problems.BadRequest(DeviceQuery.BadCursor)))
            .RequireAuthorization(OperatorRole.CanRead);
        enrollments.MapPost("/{id}/approve", (string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct) =>
            DecideAsync(id, http, (d, actor, source) => lifecycle.ApproveAsync(d, actor, source, ct))).RequireAuthorization(OperatorRole.CanChange);
        enrollments.MapPost("/{id}/reject", (string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct) =>
            DecideAsync(id, http, (d, actor, source) => lifecycle.RejectAsync(d, actor, source, ct))).RequireAuthorization(OperatorRole.CanChange);
    }

    private static Task<Results<Ok<StateChangeView>, ProblemHttpResult>> DecideAsync(
        string id, HttpContext http, Func<DeviceId, string, string?, Task<DeviceChange>> decide) =>
        DeviceRoute.ChangeAsync(id, http, decide, state => Problems.Conflict($"Device '{id}' is {state.Name()}, not pending.", "not_pending"));
}
