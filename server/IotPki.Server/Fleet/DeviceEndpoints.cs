using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Http;
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
        devices.MapPost("/{id}/suspend", (string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct) =>
            DeviceRoute.ChangeAsync(id, http, (d, actor, source) => lifecycle.SuspendAsync(d, actor, source, ct), WrongState(id)))
            .RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/reinstate", (string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct) =>
            DeviceRoute.ChangeAsync(id, http, (d, actor, source) => lifecycle.ReinstateAsync(d, actor, source, ct), WrongState(id)))
            .RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/allow-reprovision", (string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct) =>
            DeviceRoute.ChangeAsync(id, http, (d, actor, source) => lifecycle.AllowReprovisionAsync(d, actor, source, ct),
                WrongState(id, "; it cannot be re-provisioned")))
            .RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/revoke", Revoke).RequireAuthorization(OperatorRole.CanChange);
        devices.MapPost("/{id}/renew", Renew).RequireAuthorization(OperatorRole.CanChange);
    }

    private static Func<DeviceState, ProblemDetails> WrongState(string id, string why = "") =>
        state => Problems.Conflict($"Device '{id}' is {state.Name()}{why}.", "wrong_state");

    private static async Task<Results<Ok<Page<DeviceView>>, ProblemHttpResult>> List(
        IotPkiDbContext db, CancellationToken ct, string? state = null, string? manufacturer = null,
        DateTimeOffset? expiringBefore = null, DateTimeOffset? lastSeenBefore = null, string? after = null, int limit = 100, string? renewal = null)
    {
        if (DeviceQuery.LimitProblem(limit) is { } problem)
        {
            return TypedResults.Problem(problem);
        }
        DeviceState? wanted = null;
        if (state is not null)
        {
            if (!DeviceStateNames.TryParse(state, out var parsed))
            {
                return TypedResults.Problem(Problems.BadRequest($"Unknown state '{state}'."));
            }
            wanted = parsed;
        }
        RenewalStatus? renewalStatus = null;
        if (renewal is not null)
        {
            if (!RenewalStatusNames.TryParse(renewal, out var parsedRenewal))
            {
                return TypedResults.Problem(Problems.BadRequest(
                    $"Unknown renewal status '{renewal}': use one of {string.Join(", ", RenewalStatusNames.All.Select(r => r.Name()))}."));
            }
            renewalStatus = parsedRenewal;
        }
        if (!DeviceQuery.TryParseCursor(after, out var cursor))
        {
            return TypedResults.Problem(Problems.BadRequest(DeviceQuery.BadCursor));
        }
        var page = await new DeviceQuery(wanted, manufacturer, expiringBefore, lastSeenBefore, cursor, limit) { Renewal = renewalStatus }.RunAsync(db, ct);
        return TypedResults.Ok(page);
    }

    private static async Task<Results<Ok<DeviceDetailView>, ProblemHttpResult>> Show(string id, IotPkiDbContext db, CancellationToken ct) =>
        DeviceRoute.Parse(id) is { } deviceId && await DeviceDetailView.LoadAsync(db, deviceId, ct) is { } detail
            ? TypedResults.Ok(detail)
            : TypedResults.Problem(Problems.UnknownDevice(id));

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

    public sealed record RevokedView(DeviceId Id, string State, IReadOnlyList<string> RevokedSerials);

    /// <summary>Revocation end to end: certificates revoked (CRL, OCSP), live MQTT sessions closed on every instance,
    /// the bootstrap certificate barred from enrolling.</summary>
    private static async Task<Results<Ok<RevokedView>, ProblemHttpResult>> Revoke(
        string id, RevokeDeviceRequest? request, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct)
    {
        if (!RevocationReason.TryParse(request?.Reason, out var code))
        {
            return TypedResults.Problem(Problems.BadRequest(
                $"Unknown revocation reason '{request?.Reason}': use one of {string.Join(", ", RevocationReason.Names)}.", "bad_reason"));
        }
        var result = DeviceRoute.Parse(id) is { } deviceId
            ? await lifecycle.RevokeAsync(deviceId, code, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString(), ct)
            : null;
        return result is null
            ? TypedResults.Problem(Problems.UnknownDevice(id))
            : TypedResults.Ok(new RevokedView(result.DeviceId, DeviceState.Revoked.Name(), result.Serials));
    }

    /// <summary>202: the renew command goes to the device's agent if it is connected to any instance; an offline device
    /// renews on its own schedule.</summary>
    private static async Task<Results<Accepted<RenewRequestedView>, ProblemHttpResult>> Renew(
        string id, HttpContext http, DeviceLifecycle lifecycle, CancellationToken ct)
    {
        if (DeviceRoute.Parse(id) is not { } deviceId)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        var (change, notice) = await lifecycle.AskRenewalAsync(deviceId, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString(), ct);
        if (change.Refusal == DeviceChangeRefusal.UnknownDevice)
        {
            return TypedResults.Problem(Problems.UnknownDevice(id));
        }
        if (notice is null)
        {
            return TypedResults.Problem(Problems.Conflict($"Device '{id}' is {change.Device!.State.Name()}; only an active device can renew.", "wrong_state"));
        }
        return TypedResults.Accepted($"/api/v1/devices/{id}", new RenewRequestedView(deviceId, notice.Topic, change.Device!.Online));
    }
}
