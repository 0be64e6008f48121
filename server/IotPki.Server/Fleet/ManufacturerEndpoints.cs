using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Fleet;

/// <summary><c>/api/v1/manufacturers</c>: list and register manufacturers and their CA certificates.</summary>
public static class ManufacturerEndpoints
{
    public static void MapManufacturers(this RouteGroupBuilder api)
    {
        var manufacturers = api.MapGroup("/manufacturers").WithTags("Manufacturers");
        manufacturers.MapGet("/", async (IotPkiDbContext db, CancellationToken ct) =>
            TypedResults.Ok(await db.Manufacturers.AsNoTracking().OrderBy(m => m.Name).Select(ManufacturerView.FromEntity).ToListAsync(ct)))
            .RequireAuthorization(OperatorRole.CanRead);
        manufacturers.MapGet("/{name}/ca", async Task<Results<ContentHttpResult, ProblemHttpResult>> (string name, IotPkiDbContext db, CancellationToken ct) =>
            await db.Manufacturers.AsNoTracking().Where(m => m.Name == name).Select(m => m.CaCertificatePem).SingleOrDefaultAsync(ct) is { } pem
                ? TypedResults.Text(pem, "application/x-pem-file")
                : TypedResults.Problem(Problems.BadRequest($"No manufacturer '{name}'.", "unknown_manufacturer")))
            .RequireAuthorization(OperatorRole.CanRead);
        manufacturers.MapPost("/", Register).RequireAuthorization(OperatorRole.CanChange);
        manufacturers.MapPut("/{name}/unregistered-policy", SetPolicy).RequireAuthorization(OperatorRole.CanChange);
        manufacturers.MapPut("/{name}/profile", SetProfile).RequireAuthorization(OperatorRole.CanChange);
        manufacturers.MapPut("/{name}/proof-of-possession", SetProofOfPossession).RequireAuthorization(OperatorRole.CanChange);
    }

    private static async Task<Results<Created<ManufacturerView>, ProblemHttpResult>> Register(
        RegisterManufacturerRequest request, HttpContext http, ManufacturerRegistration registration, IotPkiDbContext db, CancellationToken ct)
    {
        if (!BootstrapIdentity.TryParseField(request.DeviceIdField ?? "cn", out var field))
        {
            return TypedResults.Problem(Problems.BadRequest("deviceIdField must be cn or serialNumber."));
        }
        var policy = request.UnregisteredPolicy ?? UnregisteredPolicy.Refuse;
        if (!UnregisteredPolicy.IsValid(policy))
        {
            return TypedResults.Problem(Problems.BadRequest("unregisteredPolicy must be refuse, pending or auto-approve."));
        }
        try
        {
            var m = await registration.RegisterAsync(request.Name ?? "", request.CaCertificatePem ?? "", field, CallerIdentity.Actor(http.User), ct, policy);
            return TypedResults.Created($"/api/v1/manufacturers/{m.Name}", ManufacturerView.Of(m));
        }
        catch (RegistrationException e)
        {
            return TypedResults.Problem(Problems.BadRequest(e.Message, "invalid_manufacturer"));
        }
    }

    public sealed record PolicyRequest(string Policy);

    private static async Task<Results<Ok<ManufacturerView>, ProblemHttpResult>> SetPolicy(
        string name, PolicyRequest request, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (!UnregisteredPolicy.IsValid(request.Policy))
        {
            return TypedResults.Problem(Problems.BadRequest("policy must be refuse, pending or auto-approve."));
        }
        var m = await db.Manufacturers.SingleOrDefaultAsync(x => x.Name == name, ct);
        if (m is null)
        {
            return TypedResults.Problem(Problems.BadRequest($"No manufacturer '{name}'.", "unknown_manufacturer"));
        }
        m.UnregisteredPolicy = request.Policy;
        AuditLog.Add(db, clock.GetUtcNow(), "manufacturer.policy-changed", CallerIdentity.Actor(http.User),
            sourceAddress: http.Connection.RemoteIpAddress?.ToString(), detail: $"{name}: unregistered serials {request.Policy}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ManufacturerView.Of(m));
    }

    /// <summary>The certificate profile of the manufacturer's devices; a null field takes the service's default.</summary>
    public sealed record ProfileRequest(TimeSpan? OperationalLifetime, double? RenewalWindowStart, double? RenewalAtRisk);

    /// <summary>Takes effect with each device's next certificate; the renewal cycles of certificates already issued stay.</summary>
    private static async Task<Results<Ok<ManufacturerView>, ProblemHttpResult>> SetProfile(
        string name, ProfileRequest request, HttpContext http, IotPkiDbContext db, IOptions<RenewalOptions> renewal, TimeProvider clock, CancellationToken ct)
    {
        if (request.OperationalLifetime is { } lifetime && (lifetime < CertificateProfile.MinimumLifetime || lifetime > TimeSpan.FromDays(3650)))
        {
            return TypedResults.Problem(Problems.BadRequest($"operationalLifetime must be between {CertificateProfile.MinimumLifetime} and 3650 days.", "bad_profile"));
        }
        var start = request.RenewalWindowStart ?? renewal.Value.WindowStart;
        var atRisk = request.RenewalAtRisk ?? renewal.Value.AtRisk;
        if (start is <= 0 or >= 1 || atRisk <= start || atRisk >= 1)
        {
            return TypedResults.Problem(Problems.BadRequest(
                $"The renewal window must satisfy 0 < renewalWindowStart < renewalAtRisk < 1 (here {start} and {atRisk}).", "bad_profile"));
        }
        var m = await db.Manufacturers.SingleOrDefaultAsync(x => x.Name == name, ct);
        if (m is null)
        {
            return TypedResults.Problem(Problems.BadRequest($"No manufacturer '{name}'.", "unknown_manufacturer"));
        }
        m.OperationalLifetime = request.OperationalLifetime;
        m.RenewalWindowStart = request.RenewalWindowStart;
        m.RenewalAtRisk = request.RenewalAtRisk;
        AuditLog.Add(db, clock.GetUtcNow(), "manufacturer.profile-changed", CallerIdentity.Actor(http.User),
            sourceAddress: http.Connection.RemoteIpAddress?.ToString(),
            detail: $"{name}: lifetime {request.OperationalLifetime?.ToString() ?? "default"}, window {start}..{atRisk}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ManufacturerView.Of(m));
    }

    public sealed record ProofOfPossessionRequest(bool? Required);

    /// <summary>Whether a first enrollment of the manufacturer's devices must carry the session's tls-unique (RFC 7030 §3.5).</summary>
    private static async Task<Results<Ok<ManufacturerView>, ProblemHttpResult>> SetProofOfPossession(
        string name, ProofOfPossessionRequest request, HttpContext http, IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        if (request.Required is not { } required)
        {
            return TypedResults.Problem(Problems.BadRequest("required must be true or false.", "bad_setting"));
        }
        var m = await db.Manufacturers.SingleOrDefaultAsync(x => x.Name == name, ct);
        if (m is null)
        {
            return TypedResults.Problem(Problems.BadRequest($"No manufacturer '{name}'.", "unknown_manufacturer"));
        }
        m.RequireProofOfPossession = required;
        AuditLog.Add(db, clock.GetUtcNow(), "manufacturer.proof-of-possession-changed", CallerIdentity.Actor(http.User),
            sourceAddress: http.Connection.RemoteIpAddress?.ToString(),
            detail: $"{name}: proof of possession on first enrollment {(required ? "required" : "optional")}");
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ManufacturerView.Of(m));
    }
}
