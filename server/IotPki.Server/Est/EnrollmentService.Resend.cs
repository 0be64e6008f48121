using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Est;

public sealed partial class EnrollmentService
{
    /// <summary>A first enrollment can commit and still lose its answer (the connection or the database dies after the
    /// commit). The device asks again with the same bootstrap certificate and the same key; refusing it as already
    /// enrolled would lock it out until an operator steps in. So a CSR, signed by the key a valid operational certificate
    /// of the device already certifies, gets that certificate again: nothing new is issued. A clone of the bootstrap
    /// certificate has another key and is still refused. Null when the request is not such a resend.</summary>
    private async Task<IResult?> ResendAsync(EnrollmentContext context, Device device, bool proofOfPossessionRequired, HttpContext http,
        CancellationToken ct)
    {
        var (csr, refusal) = await CsrBodyReader.ReadAsync(http.Request, estOptions.Value.MaxRequestBytes, KeyProof.Required, ct);
        if (refusal is not null
            || (csr!.ChallengePassword is { } claimed ? ProofOfPossession(http, claimed) is not null : proofOfPossessionRequired)
            || CsrIdentityCheck.Check(csr, device.Id, pki.Issuer.Endpoints.TrustDomain) is not null)
        {
            return null;
        }
        var requested = csr.PublicKey.ExportSubjectPublicKeyInfo();
        var now = clock.GetUtcNow();
        var valid = await db.Certificates.AsNoTracking()
            .Where(c => c.DeviceId == device.Id && c.Kind == CertificateRecord.OperationalKind && c.Status == CertificateStatus.Valid && c.NotAfter > now)
            .Select(c => new { c.Serial, c.Pem }).ToListAsync(ct);
        foreach (var candidate in valid)
        {
            using var certificate = X509Certificate2.CreateFromPem(candidate.Pem);
            if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(requested))
            {
                continue;
            }
            db.ChangeTracker.Clear();
            db.EnrollmentAttempts.Add(Attempt(context, device.Id, "resent", null, candidate.Serial, now));
            AuditLog.Add(db, now, "certificate.resent", context.Actor, device.Id, context.SourceAddress,
                $"serial {candidate.Serial} sent again: its key asked again with the bootstrap certificate that enrolled it");
            await db.SaveChangesAsync(ct);
            LogResent(logger, candidate.Serial, device.Id);
            _answer = ("resent", null);
            http.Response.Headers["Content-Transfer-Encoding"] = "base64";
            return Results.Text(CertsOnlyPkcs7.EncodeBase64([certificate]), EstContentTypes.CertsOnly);
        }
        return null;
    }

    [LoggerMessage(LogLevel.Information, "Sent {Serial} again to {DeviceId}: its first enrollment's answer was lost")]
    private static partial void LogResent(ILogger logger, string serial, DeviceId deviceId);
}
