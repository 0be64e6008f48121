using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Est;

/// <summary>Decides whether a certificate may <c>simplereenroll</c>: a valid, unrevoked operational certificate
/// of this CA, of an active device.</summary>
public sealed class ReenrollmentGate(IotPkiDbContext db, PkiState pki, TimeProvider clock)
{
    public async Task<EnrollmentDecision> AuthorizeAsync(X509Certificate2 current, CancellationToken ct)
    {
        var spiffe = OperationalIdentityOf(current, pki.Issuer.Endpoints.TrustDomain);
        if (spiffe is null)
        {
            return Refuse("not_operational_certificate",
                "simplereenroll needs the device's current operational certificate; a bootstrap certificate is accepted only by simpleenroll.");
        }
        var verdict = ChainValidator.Validate(current, pki.Root, pki.IssuingCertificates, clock.GetUtcNow());
        if (verdict == ChainVerdict.Expired)
        {
            return Refuse("certificate_expired", $"The operational certificate expired on {current.NotAfter.ToUniversalTime():u}: enroll again with the bootstrap certificate.");
        }
        if (verdict != ChainVerdict.Valid)
        {
            return Refuse("untrusted_certificate", "The client certificate was not issued by this service's issuing CA.");
        }

        if (!DeviceId.TryParse(spiffe.Name, out var deviceId))
        {
            return Refuse("unknown_certificate", "The client certificate is not on record for this device.");
        }
        var serial = CertificateIdentifiers.Serial(current);
        var record = await db.Certificates.AsNoTracking().SingleOrDefaultAsync(c => c.Serial == serial, ct);
        if (record is null || record.DeviceId != deviceId)
        {
            return Refuse("unknown_certificate", "The client certificate is not on record for this device.");
        }
        if (record.Status == CertificateStatus.Revoked)
        {
            return Refuse("certificate_revoked", "The client certificate has been revoked.", deviceId);
        }
        if (record.Status == CertificateStatus.Superseded)
        {
            return Refuse("superseded",
                $"Certificate {serial} was replaced by a newer certificate of device '{deviceId}' that has connected: only the newest may renew. A second holder of the old one is a clone?", deviceId);
        }
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == deviceId, ct);
        if (device is null || device.State != DeviceState.Active)
        {
            var state = device?.State.Name() ?? "unknown";
            return Refuse("device_" + state, $"Device '{deviceId}' is {state} and cannot renew.", deviceId);
        }
        return EnrollmentDecision.Allow(device);
    }

    private static EnrollmentDecision Refuse(string reason, string detail, DeviceId? claimed = null) =>
        EnrollmentDecision.Refuse(EstRefusal.Forbidden(reason, detail), claimed);

    /// <summary>The operational SPIFFE id of this trust domain the certificate claims (not yet verified), if any.</summary>
    public static SpiffeId? OperationalIdentityOf(X509Certificate2 certificate, string trustDomain) =>
        SpiffeId.InCertificate(certificate, trustDomain, CertificateKind.Operational);
}
