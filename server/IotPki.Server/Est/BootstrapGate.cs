using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Est;

/// <summary>Decides whether a bootstrap certificate may <c>simpleenroll</c>: it chains to a registered manufacturer CA,
/// is within validity, names a registered device of that manufacturer, and that device is not blocked.</summary>
public sealed class BootstrapGate(IotPkiDbContext db, DeviceLifecycle lifecycle, TimeProvider clock)
{
    private static readonly ConcurrentDictionary<string, X509Certificate2> AnchorCache = new();

    private static readonly Func<IotPkiDbContext, string?, IAsyncEnumerable<Manufacturer>> ManufacturersByKeyId =
        EF.CompileAsyncQuery((IotPkiDbContext db, string? keyId) =>
            db.Manufacturers.AsNoTracking().Where(m => keyId == null || m.CaKeyId == keyId));

    private static readonly Func<IotPkiDbContext, DeviceId, Task<Device?>> DeviceById =
        EF.CompileAsyncQuery((IotPkiDbContext db, DeviceId id) => db.Devices.SingleOrDefault(d => d.Id == id));

    public async Task<EnrollmentDecision> AuthorizeAsync(X509Certificate2 bootstrap, CancellationToken ct)
    {
        var keyId = CertificateIdentifiers.AuthorityKeyId(bootstrap);
        var candidates = new List<Manufacturer>();
        await foreach (var m in ManufacturersByKeyId(db, keyId).WithCancellation(ct))
        {
            candidates.Add(m);
        }
        var now = clock.GetUtcNow();

        Manufacturer? manufacturer = null;
        var verdict = ChainVerdict.UntrustedIssuer;
        foreach (var candidate in candidates)
        {
            verdict = ChainValidator.Validate(bootstrap, Anchor(candidate), null, now);
            if (verdict != ChainVerdict.UntrustedIssuer)
            {
                manufacturer = candidate;
                break;
            }
        }

        switch (verdict)
        {
            case ChainVerdict.UntrustedIssuer:
                return Refuse("unknown_manufacturer", "The client certificate was not issued by a registered manufacturer CA.");
            case ChainVerdict.Expired:
                return Refuse("bootstrap_expired", $"The bootstrap certificate expired on {bootstrap.NotAfter.ToUniversalTime():u}.");
            case ChainVerdict.NotYetValid:
                return Refuse("bootstrap_not_yet_valid", $"The bootstrap certificate is not valid before {bootstrap.NotBefore.ToUniversalTime():u}.");
            case ChainVerdict.Invalid:
                return Refuse("bootstrap_invalid", "The bootstrap certificate chain does not validate.");
        }

        var field = BootstrapIdentity.TryParseField(manufacturer!.DeviceIdField, out var f) ? f : DeviceIdField.CommonName;
        if (!BootstrapIdentity.TryReadDeviceId(bootstrap, field, out var deviceId))
        {
            return Refuse("no_device_id", $"The bootstrap certificate's subject {BootstrapIdentity.FieldName(field)} is not a valid device id.");
        }

        var device = await DeviceById(db, deviceId)
            ?? await lifecycle.AdmitUnregisteredAsync(manufacturer, deviceId, CertificateIdentifiers.Thumbprint(bootstrap), ct);
        if (device is null || device.ManufacturerId != manufacturer.Id)
        {
            return Refuse("unregistered_serial", $"The serial '{deviceId}' is not registered for manufacturer '{manufacturer.Name}'.", device is null ? null : deviceId);
        }
        if (device.State == DeviceState.Pending)
        {
            return EnrollmentDecision.Wait(device);
        }
        if (device.State is DeviceState.Blocked or DeviceState.Revoked or DeviceState.Suspended)
        {
            return Refuse("device_" + device.State.Name(), $"Device '{deviceId}' is {device.State.Name()} and cannot enroll.", deviceId);
        }
        if (device.State == DeviceState.Active && !device.ReprovisionAllowed)
        {
            var refusal = EstRefusal.Forbidden("already_enrolled",
                $"Device '{deviceId}' is already enrolled: its bootstrap certificate is refused (a clone?) unless an operator allows re-provisioning.");
            return device.BootstrapThumbprint == CertificateIdentifiers.Thumbprint(bootstrap)
                ? EnrollmentDecision.AlreadyEnrolled(device, refusal, manufacturer)
                : EnrollmentDecision.Refuse(refusal, deviceId);
        }
        return EnrollmentDecision.Allow(device, manufacturer);
    }

    private static X509Certificate2 Anchor(Manufacturer m) =>
        AnchorCache.GetOrAdd(m.CaThumbprint, _ => X509Certificate2.CreateFromPem(m.CaCertificatePem));

    private static EnrollmentDecision Refuse(string reason, string detail, DeviceId? claimed = null) =>
        EnrollmentDecision.Refuse(EstRefusal.Forbidden(reason, detail), claimed);
}
