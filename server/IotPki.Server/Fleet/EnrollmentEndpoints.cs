using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
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
        enrollments.MapGet("/pending", async (IotPkiDbContext db, CancellationToken ct, string? after = null, int limit = 100) =>
            TypedResults.Ok(await new DeviceQuery(DeviceState.Pending, null, null, null, after, Math.Clamp(limit, 1, DeviceQuery.MaxLimit)).RunAsync(db, ct)))
            .RequireAuthorization(OperatorRole.CanRead);
        enrollments.MapPost("/{id}/approve", (string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct) =>
            DecideAsync(id, DeviceState.Registered, "enrollment.approved", http, db, clock, ct)).RequireAuthorization(OperatorRole.CanChange);
        enrollments.MapPost("/{id}/reject", (string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct) =>
            DecideAsync(id, DeviceState.Blocked, "enrollment.rejected", http, db, clock, ct)).RequireAuthorization(OperatorRole.CanChange);
    }

    private static async Task<Results<Ok<StateChangeView>, ProblemHttpResult>> DecideAsync(
        string id, string to, string action, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        if (device.State != DeviceState.Pending)
        {
            return TypedResults.Problem(Problems.Conflict($"Device '{id}' is {device.State}, not pending.", "not_pending"));
        }
        device.State = to;
        AuditLog.Add(db, clock.GetUtcNow(), action, CallerIdentity.Actor(http.User), id, http.Connection.RemoteIpAddress?.ToString());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new StateChangeView(id, to));
    }
}
