using IotPki.Server.Broker;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Asks one device's agent to rotate its key and certificate now: an audit row, then a NOTIFY that makes
/// the instance holding the device's MQTT session publish on <c>devices/&lt;id&gt;/commands/renew</c>.</summary>
public sealed class DeviceRenewalRequest(IotPkiDbContext db, TimeProvider clock)
{
    /// <summary>Null device: unknown. No topic: not sent, the device is not active (only an active device can renew).</summary>
    public sealed record Result(Device? Device, string? Topic);

    public async Task<Result> RequestAsync(string deviceId, string actor, string? source, CancellationToken ct)
    {
        var device = await db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.Id == deviceId, ct);
        if (device is null || device.State != DeviceState.Active)
        {
            return new Result(device, null);
        }
        var now = clock.GetUtcNow();
        var notice = new DeviceCommandNotice(deviceId, DeviceCommandNotice.Renew, actor, now);
        AuditLog.Add(db, now, "device.renew-requested", actor, deviceId, source, device.Online ? "device online" : "device offline: it renews on its own schedule");
        await db.SaveChangesAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_notify({DeviceCommandNotice.Channel}, {notice.ToJson()})", ct);
        return new Result(device, notice.Topic);
    }
}
