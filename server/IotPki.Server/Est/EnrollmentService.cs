using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Fleet;
using IotPki.Server.Pki;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Est;

/// <summary>Runs <c>simpleenroll</c> and <c>simplereenroll</c>: gate, CSR, identity, issue, commit, answer.</summary>
public sealed partial class EnrollmentService(
    IotPkiDbContext db, PkiState pki, BootstrapGate bootstrapGate, ReenrollmentGate reenrollmentGate,
    IOptions<EstOptions> estOptions, IOptions<PkiOptions> pkiOptions, TimeProvider clock, ILogger<EnrollmentService> logger)
{
    public async Task<IResult> HandleAsync(string operation, HttpContext http, CancellationToken ct)
    {
        var client = await http.Connection.GetClientCertificateAsync(ct);
        var context = new EnrollmentContext(operation, client, http.Connection.RemoteIpAddress?.ToString());
        if (client is null)
        {
            return await RefuseAsync(context, null, EstRefusal.NoClientCertificate(operation), ct);
        }

        var decision = operation == EstOperation.SimpleEnroll
            ? await bootstrapGate.AuthorizeAsync(client, ct)
            : await reenrollmentGate.AuthorizeAsync(client, ct);
        if (decision.Refusal is not null)
        {
            return await RefuseAsync(context, null, decision.Refusal, ct);
        }
        var device = decision.Device!;
        if (decision.AwaitingApproval)
        {
            return await AwaitApprovalAsync(context, device, http, ct);
        }

        var (csr, csrRefusal) = await CsrBodyReader.ReadAsync(http.Request, estOptions.Value.MaxRequestBytes, ct);
        if (csrRefusal is not null)
        {
            return await RefuseAsync(context, device.Id, csrRefusal, ct);
        }
        var identityRefusal = CsrIdentityCheck.Check(csr!, device.Id, pki.Issuer.Endpoints.TrustDomain);
        if (identityRefusal is not null)
        {
            return await RefuseAsync(context, device.Id, identityRefusal, ct);
        }

        var issued = pki.Issuer.Issue(CertificateProfile.Operational(pkiOptions.Value.OperationalLifetime), device.Id, csr!.PublicKey);
        await CommitAsync(context, device, issued, ct);
        LogIssued(logger, issued.SerialHex, device.Id, operation);

        var body = CertsOnlyPkcs7.EncodeBase64([issued.Certificate]);
        issued.Certificate.Dispose();
        http.Response.Headers["Content-Transfer-Encoding"] = "base64";
        return Results.Text(body, EstContentTypes.CertsOnly);
    }

    private async Task CommitAsync(EnrollmentContext context, Device device, IssuedCertificate issued, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (context.Operation == EstOperation.SimpleEnroll)
        {
            device.State = DeviceState.Active;
            device.EnrolledAt = now;
            device.BootstrapThumbprint = context.ClientThumbprint;
            device.ReprovisionAllowed = false;
        }
        db.Certificates.Add(CertificateRecord.Issued(issued, "operational", device.Id, now));
        db.EnrollmentAttempts.Add(Attempt(context, device.Id, "issued", null, issued.SerialHex, now));
        AuditLog.Add(db, now, context.Operation == EstOperation.SimpleEnroll ? "certificate.issued" : "certificate.renewed",
            context.Actor, device.Id, context.SourceAddress, $"serial {issued.SerialHex}, valid until {issued.NotAfter:u}");
        await db.SaveChangesAsync(ct);
    }

    private async Task<IResult> AwaitApprovalAsync(EnrollmentContext context, Device device, HttpContext http, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.EnrollmentAttempts.Add(Attempt(context, device.Id, "pending", "awaiting_approval", null, clock.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        http.Response.Headers.RetryAfter = estOptions.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Text($"Device '{device.Id}' awaits an operator's approval; retry later.", "text/plain", statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> RefuseAsync(EnrollmentContext context, string? deviceId, EstRefusal refusal, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = clock.GetUtcNow();
        db.EnrollmentAttempts.Add(Attempt(context, deviceId, "refused", refusal.Reason, null, now));
        AuditLog.Add(db, now, "enrollment.refused", context.Actor, deviceId, context.SourceAddress,
            $"{context.Operation}: {refusal.Reason}: {refusal.Detail}");
        await db.SaveChangesAsync(ct);
        LogRefused(logger, context.Operation, refusal.Reason, deviceId, context.SourceAddress);
        return Results.Problem(
            statusCode: refusal.Status,
            title: $"{context.Operation} refused",
            detail: refusal.Detail,
            extensions: new Dictionary<string, object?> { ["reason"] = refusal.Reason });
    }

    private static EnrollmentAttempt Attempt(EnrollmentContext context, string? deviceId, string outcome, string? reason, string? serial, DateTimeOffset now) => new()
    {
        At = now,
        Operation = context.Operation,
        DeviceId = deviceId,
        ClientSubject = context.ClientSubject is { Length: > 500 } s ? s[..500] : context.ClientSubject,
        ClientThumbprint = context.ClientThumbprint,
        SourceAddress = context.SourceAddress,
        Outcome = outcome,
        Reason = reason,
        IssuedSerial = serial,
    };

    [LoggerMessage(LogLevel.Information, "Issued {Serial} for {DeviceId} ({Operation})")]
    private static partial void LogIssued(ILogger logger, string serial, string deviceId, string operation);

    [LoggerMessage(LogLevel.Warning, "Refused {Operation}: {Reason} (device {DeviceId}, from {Source})")]
    private static partial void LogRefused(ILogger logger, string operation, string reason, string? deviceId, string? source);
}
