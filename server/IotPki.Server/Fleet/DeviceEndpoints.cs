using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary><c>/api/v1/devices</c>: list, show, register, import, suspend, reinstate, allow re-provisioning, revoke,
/// and ask for a renewal now.</summary>
public static class DeviceEndpoints
{
    public static void MapDevices(this RouteGroupBuilder api)
    {
        var devices = api.MapGroup("/devices").WithTags("Devices");
        devices.MapGet("/", List).RequireAuthorization(OperatorRole.CanRead);
        devices.MapGet("/{id}", Show).RequireAuthorization(OperatorRole.CanRead);
        devices.MapPost("/", Register).RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/import", Import).RequireAuthorization(OperatorRole.CanChange).Accepts<string>("text/csv");
        devices.MapPost("/{id}/suspend", (string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct) =>
            ChangeStateAsync(id, DeviceState.Suspended, [DeviceState.Active, DeviceState.Registered], "device.suspended", http, db, clock, ct))
            .RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/reinstate", (string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct) =>
            ReinstateAsync(id, http, db, clock, ct))
            .RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/allow-reprovision", AllowReprovision).RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/revoke", Revoke).RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/renew", Renew).RequireAuthorization(OperatorRole.CanChange);
    }

    private static async Task<Results<Ok<Page<DeviceView>>, ProblemHttpResult>> List(
        IotPkiDbContext db, CancellationToken ct, string? state = null, string? manufacturer = null,
        DateTimeOffset? expiringBefore = null, DateTimeOffset? lastSeenBefore = null, string? after = null, int limit = 100)
    {
        if (limit is < 1 or > DeviceQuery.MaxLimit)
        {
            return TypedResults.Problem(Problems.BadRequest($"limit must be between 1 and {DeviceQuery.MaxLimit}."));
        }
        if (state is not null && state is not (DeviceState.Registered or DeviceState.Pending or DeviceState.Active
            or DeviceState.Suspended or DeviceState.Revoked or DeviceState.Blocked))
        {
            return TypedResults.Problem(Problems.BadRequest($"Unknown state '{state}'."));
        }
        var page = await new DeviceQuery(state, manufacturer, expiringBefore, lastSeenBefore, after, limit).RunAsync(db, ct);
        return TypedResults.Ok(page);
    }

    private static async Task<Results<Ok<DeviceDetailView>, ProblemHttpResult>> Show(string id, IotPkiDbContext db, CancellationToken ct)
    {
        var device = await db.Devices.AsNoTracking().Where(d => d.Id == id).Select(DeviceView.From(db.Certificates)).SingleOrDefaultAsync(ct);
        if (device is null)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        var bootstrap = await db.Devices.Where(d => d.Id == id).Select(d => d.BootstrapThumbprint).SingleAsync(ct);
        var certificates = await db.Certificates.AsNoTracking().Where(c => c.DeviceId == id)
            .OrderByDescending(c => c.IssuedAt).Select(CertificateView.FromEntity).ToListAsync(ct);
        return TypedResults.Ok(new DeviceDetailView(device, bootstrap, certificates));
    }

    private static async Task<Results<Created<ImportResultView>, ProblemHttpResult>> Register(
        RegisterDeviceRequest request, HttpContext http, DeviceRegistration registration, CancellationToken ct)
    {
        if (request.Serial is null || request.Manufacturer is null)
        {
            return TypedResults.Problem(Problems.BadRequest("serial and manufacturer are required."));
        }
        DeviceRegistration.ImportResult result;
        try
        {
            result = await registration.RegisterAsync(request.Manufacturer, [request.Serial], CallerIdentity.Actor(http.User), ct);
        }
        catch (RegistrationException e)
        {
            return TypedResults.Problem(Problems.BadRequest(e.Message, "unknown_manufacturer"));
        }
        if (result.Errors.Count > 0)
        {
            return TypedResults.Problem(Problems.BadRequest(result.Errors[0], "invalid_serial"));
        }
        if (result.AlreadyRegistered > 0)
        {
            return TypedResults.Problem(Problems.Conflict($"'{request.Serial}' is already registered.", "already_registered"));
        }
        return TypedResults.Created($"/api/v1/devices/{request.Serial.ToLowerInvariant()}", new ImportResultView(result.Added, 0, []));
    }

    public const int MaxImportBytes = 4 * 1024 * 1024;

    private static async Task<Results<Ok<ImportResultView>, ProblemHttpResult>> Import(
        string manufacturer, HttpContext http, DeviceRegistration registration, CancellationToken ct, int firstLine = 1)
    {
        if (firstLine < 1)
        {
            return TypedResults.Problem(Problems.BadRequest("firstLine must be 1 or more."));
        }
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxImportBytes + 1; // our own bound below answers with a problem, not Kestrel's
        }
        if (http.Request.ContentLength is > MaxImportBytes)
        {
            return TypedResults.Problem(Problems.BadRequest($"The CSV is larger than {MaxImportBytes} bytes.", "request_too_large"));
        }
        using var limited = new StreamReader(new LengthLimitedStream(http.Request.Body, MaxImportBytes));
        try
        {
            var result = await registration.ImportCsvAsync(manufacturer, limited, CallerIdentity.Actor(http.User), ct, firstLine);
            return TypedResults.Ok(new ImportResultView(result.Added, result.AlreadyRegistered, result.Errors));
        }
        catch (RegistrationException e)
        {
            return TypedResults.Problem(Problems.BadRequest(e.Message, "unknown_manufacturer"));
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(Problems.BadRequest(e.Message, "request_too_large"));
        }
    }

    public sealed record RevokedView(string Id, string State, IReadOnlyList<string> RevokedSerials);

    /// <summary>Revocation end to end: certificates revoked (CRL, OCSP), live MQTT sessions closed on every instance,
    /// the bootstrap certificate barred from enrolling.</summary>
    private static async Task<Results<Ok<RevokedView>, ProblemHttpResult>> Revoke(
        string id, RevokeDeviceRequest? request, HttpContext http, DeviceRevocation revocation, CancellationToken ct)
    {
        if (!RevocationReason.TryParse(request?.Reason, out var code))
        {
            return TypedResults.Problem(Problems.BadRequest(
                $"Unknown revocation reason '{request?.Reason}': use one of {string.Join(", ", RevocationReason.Names)}.", "bad_reason"));
        }
        var result = await revocation.RevokeDeviceAsync(id, code, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString(), ct);
        return result is null
            ? TypedResults.Problem(Problems.UnknownDevice(id))
            : TypedResults.Ok(new RevokedView(id, DeviceState.Revoked, result.Serials));
    }

    /// <summary>202: the renew command goes to the device's agent if it is connected to any instance; an offline device
    /// renews on its own schedule.</summary>
    private static async Task<Results<Accepted<RenewRequestedView>, ProblemHttpResult>> Renew(
        string id, HttpContext http, DeviceRenewalRequest renewal, CancellationToken ct)
    {
        var result = await renewal.RequestAsync(id, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString(), ct);
        if (result.Device is null)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        if (result.Topic is null)
        {
            return TypedResults.Problem(Problems.Conflict($"Device '{id}' is {result.Device.State}; only an active device can renew.", "wrong_state"));
        }
        return TypedResults.Accepted($"/api/v1/devices/{id}", new RenewRequestedView(id, result.Topic, result.Device.Online));
    }

    private static async Task<Results<Ok<StateChangeView>, ProblemHttpResult>> ChangeStateAsync(
        string id, string to, string[] from, string action, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        if (!from.Contains(device.State))
        {
            return TypedResults.Problem(Problems.Conflict($"Device '{id}' is {device.State}.", "wrong_state"));
        }
        var before = device.State;
        device.State = to;
        AuditLog.Add(db, clock.GetUtcNow(), action, CallerIdentity.Actor(http.User), id, http.Connection.RemoteIpAddress?.ToString(), $"{before} -> {to}");
        await db.SaveChangesAsync(ct);
        await http.RequestServices.GetRequiredService<DeviceRevocation>().NotifyStateAsync(id, to, ct);
        return TypedResults.Ok(new StateChangeView(id, to));
    }

    private static async Task<Results<Ok<StateChangeView>, ProblemHttpResult>> ReinstateAsync(
        string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var enrolled = await db.Devices.Where(d => d.Id == id).Select(d => d.EnrolledAt != null).SingleOrDefaultAsync(ct);
        return await ChangeStateAsync(id, enrolled ? DeviceState.Active : DeviceState.Registered, [DeviceState.Suspended],
            "device.reinstated", http, db, clock, ct);
    }

    /// <summary>Lets the device's bootstrap certificate (or a new one) enroll again: clears the recorded bootstrap.</summary>
    private static async Task<Results<Ok<StateChangeView>, ProblemHttpResult>> AllowReprovision(
        string id, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        if (device.State is DeviceState.Revoked or DeviceState.Blocked)
        {
            return TypedResults.Problem(Problems.Conflict($"Device '{id}' is {device.State}; it cannot be re-provisioned.", "wrong_state"));
        }
        device.BootstrapThumbprint = null;
        device.ReprovisionAllowed = true;
        AuditLog.Add(db, clock.GetUtcNow(), "device.reprovision-allowed", CallerIdentity.Actor(http.User), id, http.Connection.RemoteIpAddress?.ToString());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new StateChangeView(id, device.State));
    }
}
