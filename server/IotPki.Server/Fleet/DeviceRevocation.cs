using IotPki.Server.Broker;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Revokes a stolen device in one transaction: every unexpired certificate revoked (so CRL and OCSP say so),
/// the device barred (so its bootstrap certificate can no longer enroll), an audit row, and a NOTIFY that makes every
/// server instance close its live MQTT session and refuse reconnects.</summary>
public sealed class DeviceRevocation(IotPkiDbContext db, ClusterListener listener, TimeProvider clock)
{
    public sealed record Result(string DeviceId, IReadOnlyList<string> Serials);

    public async Task<Result?> RevokeDeviceAsync(string deviceId, int reasonCode, string actor, string? source, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == deviceId, ct);
        if (device is null)
        {
            return null;
        }
        var serials = await db.Certificates
            .Where(c => c.DeviceId == deviceId && c.Status == CertificateStatus.Valid && c.NotAfter > now)
            .Select(c => c.Serial).ToListAsync(ct);
        await db.Certificates.Where(c => serials.Contains(c.Serial)).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Status, CertificateStatus.Revoked)
            .SetProperty(c => c.RevokedAt, now)
            .SetProperty(c => c.RevocationReason, reasonCode), ct);
        device.State = DeviceState.Revoked;
        device.Online = false;
        AuditLog.Add(db, now, "device.revoked", actor, deviceId, source,
            $"reason {reasonCode}; {serials.Count} certificate(s): {string.Join(',', serials.Take(20))}");
        await db.SaveChangesAsync(ct);

        var notice = new RevocationNotice(deviceId, DeviceState.Revoked,
            serials.Count <= RevocationNotice.MaxSerials ? [.. serials] : []);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({RevocationNotice.Channel}, {notice.ToJson()})", ct);
        await tx.CommitAsync(ct);

        // This instance acts at once; the others on their NOTIFY.
        await listener.ApplyAsync(notice.ToJson());
        return new Result(deviceId, serials);
    }

    /// <summary>Suspension and reinstatement bar and unbar the device on every broker the same way.</summary>
    public async Task NotifyStateAsync(string deviceId, string state, CancellationToken ct)
    {
        var notice = new RevocationNotice(deviceId, state, []);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({RevocationNotice.Channel}, {notice.ToJson()})", ct);
        await listener.ApplyAsync(notice.ToJson());
    }
}
