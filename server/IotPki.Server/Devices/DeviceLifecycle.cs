using IotPki.Identity;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Devices;

/// <summary>The one owner of device state transitions. Each method commits the new state, its audit row and, where
/// other instances must act, its cluster notice in one transaction: a notice never announces what did not commit,
/// and nothing commits unannounced.
/// <code>
///   (unregistered) --admit--> pending --approve--> registered --enroll--> active <--renew
///                              pending --reject---> blocked
///   registered|active --suspend--> suspended --reinstate--> active (enrolled before) | registered
///   any --revoke--> revoked          not revoked|blocked --allow-reprovision--> (same state, bootstrap may enroll again)
/// </code></summary>
public sealed partial class DeviceLifecycle(IotPkiDbContext db, ClusterNotifier cluster, IOptions<RenewalOptions> renewal, DeviceMetrics metrics, TimeProvider clock)
{
    public Task<DeviceChange> ApproveAsync(DeviceId id, string actor, string? source, CancellationToken ct) =>
        MoveAsync(id, [DeviceState.Pending], _ => DeviceState.Registered, "enrollment.approved", actor, source, notify: false, ct);

    public Task<DeviceChange> RejectAsync(DeviceId id, string actor, string? source, CancellationToken ct) =>
        MoveAsync(id, [DeviceState.Pending], _ => DeviceState.Blocked, "enrollment.rejected", actor, source, notify: false, ct);

    /// <summary>Bars the device on every broker (its sessions close) and from EST until reinstated.</summary>
    public Task<DeviceChange> SuspendAsync(DeviceId id, string actor, string? source, CancellationToken ct) =>
        MoveAsync(id, [DeviceState.Active, DeviceState.Registered], _ => DeviceState.Suspended, "device.suspended", actor, source, notify: true, ct);

    public Task<DeviceChange> ReinstateAsync(DeviceId id, string actor, string? source, CancellationToken ct) =>
        MoveAsync(id, [DeviceState.Suspended], d => d.EnrolledAt is null ? DeviceState.Registered : DeviceState.Active,
            "device.reinstated", actor, source, notify: true, ct);

    /// <summary>Lets the device's bootstrap certificate (or a new one) enroll again: forgets the recorded bootstrap.</summary>
    public async Task<DeviceChange> AllowReprovisionAsync(DeviceId id, string actor, string? source, CancellationToken ct)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return DeviceChange.Unknown;
        }
        if (device.State is DeviceState.Revoked or DeviceState.Blocked)
        {
            return new DeviceChange(device, DeviceChangeRefusal.WrongState);
        }
        device.BootstrapThumbprint = null;
        device.ReprovisionAllowed = true;
        AuditLog.Add(db, clock.GetUtcNow(), "device.reprovision-allowed", actor, id, source);
        await db.SaveChangesAsync(ct);
        return new DeviceChange(device, null);
    }

    /// <summary>Revokes a stolen device: every unexpired certificate revoked (so CRL and OCSP say so), the device barred
    /// (so its bootstrap certificate can no longer enroll), and every instance closes its live MQTT session.</summary>
    public async Task<DeviceRevocation?> RevokeAsync(DeviceId id, int reasonCode, string actor, string? source, CancellationToken ct)
    {
        using var activity = DeviceMetrics.Tracing.StartActivity("device.revoke");
        activity?.SetTag("iotpki.device", id.Value);
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return null;
        }
        if (device.State == DeviceState.Revoked)
        {
            // Asked again (its first answer lost, or a second operator): revoked is final, so nothing changes and nothing is written.
            return new DeviceRevocation(id, []);
        }
        var serials = await db.Certificates
            .Where(c => c.DeviceId == id && c.Status == CertificateStatus.Valid && c.NotAfter > now)
            .Select(c => c.Serial).ToListAsync(ct);
        await db.Certificates.Where(c => serials.Contains(c.Serial)).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Status, CertificateStatus.Revoked)
            .SetProperty(c => c.RevokedAt, now)
            .SetProperty(c => c.RevocationReason, reasonCode), ct);
        device.State = DeviceState.Revoked;
        device.Online = false;
        AuditLog.Add(db, now, "device.revoked", actor, id, source,
            $"reason {reasonCode}; {serials.Count} certificate(s): {string.Join(',', serials.Take(20))}");
        await db.SaveChangesAsync(ct);
        var notice = new RevocationNotice(id, DeviceState.Revoked, serials.Count <= RevocationNotice.MaxSerials ? [.. serials] : [],
            TraceParent: activity?.Id);
        await cluster.NotifyAsync(db, RevocationNotice.Channel, notice.ToJson(), ct);
        await tx.CommitAsync(ct);
        metrics.Revoked(serials.Count);
        await cluster.ApplyHereAsync(RevocationNotice.Channel, notice.ToJson());
        return new DeviceRevocation(id, serials);
    }

    /// <summary>Asks an active device's agent to rotate now: the instance holding its MQTT session publishes the
    /// command. Refused (wrong state) for a device that is not active: only an active device can renew.</summary>
    public async Task<(DeviceChange Change, DeviceCommandNotice? Notice)> AskRenewalAsync(DeviceId id, string actor, string? source, CancellationToken ct)
    {
        var device = await db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return (DeviceChange.Unknown, null);
        }
        if (device.State != DeviceState.Active)
        {
            return (new DeviceChange(device, DeviceChangeRefusal.WrongState), null);
        }
        var now = clock.GetUtcNow();
        var notice = new DeviceCommandNotice(id, DeviceCommandNotice.Renew, actor, now);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        AuditLog.Add(db, now, "device.renew-requested", actor, id, source,
            device.Online ? "device online" : "device offline: it renews on its own schedule");
        await db.SaveChangesAsync(ct);
        await cluster.NotifyAsync(db, DeviceCommandNotice.Channel, notice.ToJson(), ct);
        await tx.CommitAsync(ct);
        metrics.Asked(1, actor);
        return (new DeviceChange(device, null), notice);
    }

    /// <summary>An unregistered serial of a manufacturer that admits them: registered at once (auto-approve), or
    /// pending an operator's answer. Null when the manufacturer refuses unregistered serials.</summary>
    public async Task<Device?> AdmitUnregisteredAsync(Manufacturer manufacturer, DeviceId id, string bootstrapThumbprint, CancellationToken ct)
    {
        if (manufacturer.UnregisteredPolicy == UnregisteredPolicy.Refuse)
        {
            return null;
        }
        var autoApprove = manufacturer.UnregisteredPolicy == UnregisteredPolicy.AutoApprove;
        var now = clock.GetUtcNow();
        var device = new Device
        {
            Id = id,
            ManufacturerId = manufacturer.Id,
            State = autoApprove ? DeviceState.Registered : DeviceState.Pending,
            RegisteredAt = now,
        };
        db.Devices.Add(device);
        AuditLog.Add(db, now, autoApprove ? "device.auto-approved" : "enrollment.pending", $"device:{id}", id,
            detail: $"unregistered serial of {manufacturer.Name}, bootstrap certificate {bootstrapThumbprint}");
        try
        {
            await db.SaveChangesAsync(ct);
            return device;
        }
        catch (DbUpdateException)
        {
            // Another request admitted the same serial at the same moment: use its row.
            db.ChangeTracker.Clear();
            return await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        }
    }

    /// <summary>A certificate was issued to the device: a renewal leaves the state as it is; a first enrollment makes the
    /// device active and records the bootstrap certificate that enrolled it, if the device is still enrollable when
    /// it commits. Of concurrent first enrollments (one bootstrap certificate, many requests, any number of
    /// instances) exactly one wins: false for the others, whose certificate is never committed nor returned.
    /// Commits with the certificate row and whatever else the caller added to the unit of work.</summary>
    public async Task<bool> IssuedAsync(Device device, CertificateRecord certificate, string? bootstrapThumbprint, string actor, string? source,
        string detail, RenewalProfile profile, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var initial = bootstrapThumbprint is not null;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (initial)
        {
            // The row lock makes a racing enrollment wait here, then find the device no longer enrollable.
            var claimed = await db.Devices
                .Where(d => d.Id == device.Id && (d.State == DeviceState.Registered || (d.State == DeviceState.Active && d.ReprovisionAllowed)))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.State, DeviceState.Active)
                    .SetProperty(d => d.EnrolledAt, now)
                    .SetProperty(d => d.BootstrapThumbprint, bootstrapThumbprint)
                    .SetProperty(d => d.ReprovisionAllowed, false), ct);
            if (claimed == 0)
            {
                return false;
            }
            device.State = DeviceState.Active;
            device.EnrolledAt = now;
            device.BootstrapThumbprint = bootstrapThumbprint;
            device.ReprovisionAllowed = false;
            db.Entry(device).State = EntityState.Unchanged;
        }
        db.Certificates.Add(certificate);
        AuditLog.Add(db, now, initial ? "certificate.issued" : "certificate.renewed", actor, device.Id, source, detail);
        await ScheduleAsync(device.Id, certificate, initial, profile, now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        metrics.Issued(initial);
        return true;
    }

    /// <summary>The manufacturer's certificate profile for the device, <paramref name="defaultLifetime"/> and the
    /// service's renewal fractions where it sets none.</summary>
    public async Task<RenewalProfile> ProfileAsync(Device device, TimeSpan defaultLifetime, CancellationToken ct)
    {
        var set = await db.Manufacturers.AsNoTracking().Where(m => m.Id == device.ManufacturerId)
            .Select(m => new { m.OperationalLifetime, m.RenewalWindowStart, m.RenewalAtRisk }).SingleOrDefaultAsync(ct);
        return Profile(set?.OperationalLifetime, set?.RenewalWindowStart, set?.RenewalAtRisk, defaultLifetime);
    }

    /// <summary><see cref="ProfileAsync"/> for a manufacturer already read.</summary>
    public RenewalProfile Profile(Manufacturer manufacturer, TimeSpan defaultLifetime) =>
        Profile(manufacturer.OperationalLifetime, manufacturer.RenewalWindowStart, manufacturer.RenewalAtRisk, defaultLifetime);

    private RenewalProfile Profile(TimeSpan? lifetime, double? windowStart, double? atRisk, TimeSpan defaultLifetime) =>
        new(lifetime ?? defaultLifetime, windowStart ?? renewal.Value.WindowStart, atRisk ?? renewal.Value.AtRisk);

    /// <summary>The renewal cycle of a new certificate: its window and slot; a renewal is recorded as such.</summary>
    private async Task ScheduleAsync(DeviceId id, CertificateRecord certificate, bool initial, RenewalProfile profile, DateTimeOffset now, CancellationToken ct)
    {
        var window = RenewalWindow.For(id, certificate.Serial, certificate.NotBefore, certificate.NotAfter, profile.WindowStart, profile.AtRisk);
        var row = await db.Renewals.SingleOrDefaultAsync(r => r.DeviceId == id, ct);
        if (row is null)
        {
            row = new DeviceRenewal { DeviceId = id, CertificateSerial = certificate.Serial };
            db.Renewals.Add(row);
        }
        row.CertificateSerial = certificate.Serial;
        row.NotBefore = certificate.NotBefore;
        row.NotAfter = certificate.NotAfter;
        row.WindowOpensAt = window.OpensAt;
        row.SlotAt = window.SlotAt;
        row.AtRiskAt = window.AtRiskAt;
        row.AskedAt = null;
        row.AskCount = 0;
        row.RenewedAt = initial ? null : now;
        row.Status = initial ? RenewalStatus.Scheduled : RenewalStatus.Renewed;
    }

    private async Task<DeviceChange> MoveAsync(DeviceId id, DeviceState[] from, Func<Device, DeviceState> to, string action,
        string actor, string? source, bool notify, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (device is null)
        {
            return DeviceChange.Unknown;
        }
        if (!from.Contains(device.State))
        {
            return new DeviceChange(device, DeviceChangeRefusal.WrongState);
        }
        var before = device.State;
        device.State = to(device);
        AuditLog.Add(db, clock.GetUtcNow(), action, actor, id, source, $"{before.Name()} -> {device.State.Name()}");
        await db.SaveChangesAsync(ct);
        RevocationNotice? notice = notify ? new RevocationNotice(id, device.State, []) : null;
        if (notice is not null)
        {
            await cluster.NotifyAsync(db, RevocationNotice.Channel, notice.ToJson(), ct);
        }
        await tx.CommitAsync(ct);
        if (notice is not null)
        {
            await cluster.ApplyHereAsync(RevocationNotice.Channel, notice.ToJson());
        }
        return new DeviceChange(device, null);
    }
}

/// <summary>A revoked device and the serials of the certificates revoked with it.</summary>
public sealed record DeviceRevocation(DeviceId DeviceId, IReadOnlyList<string> Serials);
