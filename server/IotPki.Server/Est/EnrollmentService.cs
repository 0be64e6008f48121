using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Est;

/// <summary>Runs <c>simpleenroll</c> and <c>simplereenroll</c>: gate, CSR, identity, issue, commit, answer.</summary>
public sealed partial class EnrollmentService(
    IotPkiDbContext db, PkiState pki, BootstrapGate bootstrapGate, ReenrollmentGate reenrollmentGate, DeviceLifecycle lifecycle,
    EnrollmentAdmission admission, IOptions<EstOptions> estOptions, IOptions<PkiOptions> pkiOptions, EstMetrics metrics, TimeProvider clock,
    ILogger<EnrollmentService> logger)
{
    private (string Outcome, string? Reason) _answer = ("failed", null);

    public async Task<IResult> HandleAsync(string operation, HttpContext http, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var activity = EstMetrics.Tracing.StartActivity("est " + operation, ActivityKind.Server);
        try
        {
            return await DecideAsync(operation, http, ct);
        }
        finally
        {
            metrics.Answered(operation, _answer.Outcome, _answer.Reason, started);
            activity?.SetTag("iotpki.outcome", _answer.Outcome);
            activity?.SetTag("iotpki.reason", _answer.Reason);
        }
    }

    private async Task<IResult> DecideAsync(string operation, HttpContext http, CancellationToken ct)
    {
        var client = await http.Connection.GetClientCertificateAsync(ct);
        var context = new EnrollmentContext(operation, client, http.Connection.RemoteIpAddress?.ToString());
        if (client is null)
        {
            return await RefuseAsync(context, null, EstRefusal.NoClientCertificate(operation), ct);
        }
        var serverKeyGen = operation == EstOperation.ServerKeyGen;
        if (serverKeyGen && !estOptions.Value.ServerKeyGen)
        {
            return await RefuseAsync(context, null, EstRefusal.ServerKeyGenDisabled(), ct);
        }

        // serverkeygen is a first enrollment with a bootstrap certificate, or a renewal with an operational one.
        var initial = operation == EstOperation.SimpleEnroll
            || (serverKeyGen && ReenrollmentGate.OperationalIdentityOf(client, pki.Issuer.Endpoints.TrustDomain) is null);
        EnrollmentDecision decision;
        using (EstMetrics.Tracing.StartActivity("est.gate"))
        {
            decision = initial
                ? await bootstrapGate.AuthorizeAsync(client, ct)
                : await reenrollmentGate.AuthorizeAsync(client, ct);
        }
        if (decision.Refusal is not null)
        {
            if (decision.ResendsToSameKey && operation == EstOperation.SimpleEnroll
                && await ResendAsync(context with { DeviceId = decision.Device!.Id }, decision.Device, decision.ProofOfPossessionRequired, http, ct) is { } resent)
            {
                return resent;
            }
            return await RefuseAsync(context, decision.Claimed, decision.Refusal, ct);
        }
        var device = decision.Device!;
        context = context with { DeviceId = device.Id };
        Activity.Current?.SetTag("iotpki.device", device.Id.Value);
        if (decision.AwaitingApproval)
        {
            return await AwaitApprovalAsync(context, device, http, ct);
        }

        SigningRequest? csr;
        EstRefusal? csrRefusal;
        using (EstMetrics.Tracing.StartActivity("est.csr"))
        {
            (csr, csrRefusal) = await CsrBodyReader.ReadAsync(http.Request, estOptions.Value.MaxRequestBytes,
                serverKeyGen ? KeyProof.Ignored : KeyProof.Required, ct);
        }
        if (csrRefusal is not null)
        {
            return await RefuseAsync(context, device.Id, csrRefusal, ct);
        }
        if (csr!.ChallengePassword is { } claimed && ProofOfPossession(http, claimed) is { } popRefusal)
        {
            return await RefuseAsync(context, device.Id, popRefusal, ct);
        }
        if (csr.ChallengePassword is null && decision.ProofOfPossessionRequired)
        {
            return await RefuseAsync(context, device.Id, EstRefusal.ProofOfPossessionRequired(), ct);
        }
        if (serverKeyGen && csr!.AsksForKeyEncryption)
        {
            // Never send in the clear a key the client asked to receive encrypted.
            return await RefuseAsync(context, device.Id, EstRefusal.KeyEncryptionUnsupported(), ct);
        }
        var identityRefusal = CsrIdentityCheck.Check(csr!, device.Id, pki.Issuer.Endpoints.TrustDomain);
        if (identityRefusal is not null)
        {
            return await RefuseAsync(context, device.Id, identityRefusal, ct);
        }

        // Issuing and committing take their turn: in a storm the rest wait in the queue or are told when to come back.
        using var turn = await admission.EnterAsync(ct);
        if (!turn.IsAcquired)
        {
            var retryAfter = admission.RetryAfterSeconds();
            http.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return await RefuseAsync(context, device.Id, EstRefusal.Busy(retryAfter), ct);
        }

        // Owned by the answer, which disposes it once written.
        var serverKey = serverKeyGen ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        string certsOnly;
        try
        {
            var publicKey = serverKey is null ? csr!.PublicKey : new PublicKey(serverKey);
            var profile = decision.Manufacturer is { } manufacturer
                ? lifecycle.Profile(manufacturer, pkiOptions.Value.OperationalLifetime)
                : await lifecycle.ProfileAsync(device, pkiOptions.Value.OperationalLifetime, ct);
            IssuedCertificate issued;
            using (EstMetrics.Tracing.StartActivity("est.sign"))
            {
                issued = pki.Issuer.Issue(CertificateProfile.Operational(profile.Lifetime), device.Id.Value, publicKey);
            }
            bool committed;
            using (EstMetrics.Tracing.StartActivity("est.commit"))
            {
                committed = await CommitAsync(context, device, issued, initial, profile, ct);
            }
            if (!committed)
            {
                issued.Certificate.Dispose();
                serverKey?.Dispose();
                return await RefuseAsync(context, device.Id, EstRefusal.Forbidden("already_enrolled",
                    $"Device '{device.Id}' was enrolled by a concurrent request with this bootstrap certificate: only one enrollment wins."), ct);
            }
            LogIssued(logger, issued.SerialHex, device.Id, operation);
            _answer = ("issued", null);
            certsOnly = CertsOnlyPkcs7.EncodeBase64([issued.Certificate]);
            issued.Certificate.Dispose();
        }
        catch
        {
            serverKey?.Dispose();
            throw;
        }
        if (serverKey is not null)
        {
            return new ServerKeyGenResult(serverKey, certsOnly);
        }
        http.Response.Headers["Content-Transfer-Encoding"] = "base64";
        return Results.Text(certsOnly, EstContentTypes.CertsOnly);
    }

    /// <summary>False when a concurrent first enrollment of the device won.</summary>
    private async Task<bool> CommitAsync(EnrollmentContext context, Device device, IssuedCertificate issued, bool initial, RenewalProfile profile,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        db.EnrollmentAttempts.Add(Attempt(context, device.Id, "issued", null, issued.SerialHex, now));
        var keyOrigin = context.Operation == EstOperation.ServerKeyGen ? ", key generated by the server" : "";
        return await lifecycle.IssuedAsync(device, CertificateRecord.Issued(issued, CertificateRecord.OperationalKind, device.Id, now),
            initial ? context.ClientThumbprint : null, context.Actor, context.SourceAddress,
            $"serial {issued.SerialHex}, valid until {issued.NotAfter:u}{keyOrigin}", profile, ct);
    }

    /// <summary>RFC 7030 §3.5: a challengePassword holds the base64 tls-unique of this session, and must match.</summary>
    private static EstRefusal? ProofOfPossession(HttpContext http, string claimed)
    {
        if (TlsUnique.Of(http) is not { } unique)
        {
            return EstRefusal.TlsUniqueUnavailable();
        }
        var expected = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(unique));
        var given = System.Text.Encoding.ASCII.GetBytes(claimed.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, given) ? null : EstRefusal.TlsUniqueMismatch();
    }

    private async Task<IResult> AwaitApprovalAsync(EnrollmentContext context, Device device, HttpContext http, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        db.EnrollmentAttempts.Add(Attempt(context, device.Id, "pending", "awaiting_approval", null, clock.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        _answer = ("pending", null);
        http.Response.Headers.RetryAfter = estOptions.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Text($"Device '{device.Id}' awaits an operator's approval; retry later.", "text/plain", statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> RefuseAsync(EnrollmentContext context, DeviceId? deviceId, EstRefusal refusal, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var now = clock.GetUtcNow();
        db.EnrollmentAttempts.Add(Attempt(context, deviceId, "refused", refusal.Reason, null, now));
        AuditLog.Add(db, now, "enrollment.refused", context.Actor, deviceId, context.SourceAddress,
            $"{context.Operation}: {refusal.Reason}: {refusal.Detail}");
        await db.SaveChangesAsync(ct);
        LogRefused(logger, context.Operation, refusal.Reason, deviceId, context.SourceAddress);
        _answer = ("refused", refusal.Reason);
        return Results.Problem(
            statusCode: refusal.Status,
            title: $"{context.Operation} refused",
            detail: refusal.Detail,
            extensions: new Dictionary<string, object?> { ["reason"] = refusal.Reason });
    }

    private static EnrollmentAttempt Attempt(EnrollmentContext context, DeviceId? deviceId, string outcome, string? reason, string? serial, DateTimeOffset now) => new()
    {
        At = now,
        Operation = context.Operation,
        DeviceId = deviceId,
        ClientSubject = DbText.CleanOrNull(context.ClientSubject is { Length: > 500 } s ? s[..500] : context.ClientSubject),
        ClientThumbprint = context.ClientThumbprint,
        SourceAddress = context.SourceAddress,
        Outcome = outcome,
        Reason = reason,
        IssuedSerial = serial,
    };

    [LoggerMessage(LogLevel.Information, "Issued {Serial} for {DeviceId} ({Operation})")]
    private static partial void LogIssued(ILogger logger, string serial, DeviceId deviceId, string operation);

    [LoggerMessage(LogLevel.Warning, "Refused {Operation}: {Reason} (device {DeviceId}, from {Source})")]
    private static partial void LogRefused(ILogger logger, string operation, string reason, DeviceId? deviceId, string? source);
}
