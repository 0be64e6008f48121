using System.Collections.Concurrent;
using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Broker;

/// <summary>Revoked certificate serials and barred devices, held in memory so that a connect costs no query;
/// loaded from PostgreSQL at start and kept fresh by <see cref="RevocationNoticeHandler"/>.</summary>
public sealed class RevokedSet
{
    // Serial -> why it is refused: revoked, or superseded by a newer certificate of its device.
    private ConcurrentDictionary<string, string> _serials = new();
    private ConcurrentDictionary<DeviceId, DeviceState> _devices = new();

    public const string Revoked = "certificate_revoked";
    public const string Superseded = "certificate_superseded";

    public bool IsRevoked(string serial) => _serials.ContainsKey(serial);

    /// <summary>Why a serial is refused (<see cref="Revoked"/>, <see cref="Superseded"/>), or null.</summary>
    public string? RefusalOf(string serial) => _serials.TryGetValue(serial, out var reason) ? reason : null;

    /// <summary>The state that bars a device (revoked, suspended), or null.</summary>
    public DeviceState? BarredState(DeviceId deviceId) => _devices.TryGetValue(deviceId, out var state) ? state : null;

    public void Add(IEnumerable<string> serials, DeviceId? deviceId, DeviceState? deviceState, bool superseded = false)
    {
        foreach (var serial in serials)
        {
            _serials[serial] = superseded ? Superseded : Revoked;
        }
        if (deviceId is { } id)
        {
            if (deviceState is { } state and (DeviceState.Revoked or DeviceState.Suspended))
            {
                _devices[id] = state;
            }
            else
            {
                _devices.TryRemove(id, out _);
            }
        }
    }

    public async Task ReloadAsync(IotPkiDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var serials = await db.Certificates.AsNoTracking()
            .Where(c => (c.Status == CertificateStatus.Revoked || c.Status == CertificateStatus.Superseded) && c.NotAfter > now)
            .Select(c => new { c.Serial, c.Status }).ToListAsync(ct);
        var devices = await db.Devices.AsNoTracking()
            .Where(d => d.State == DeviceState.Revoked || d.State == DeviceState.Suspended)
            .Select(d => new { d.Id, d.State }).ToListAsync(ct);
        _serials = new ConcurrentDictionary<string, string>(serials.Select(s =>
            KeyValuePair.Create(s.Serial, s.Status == CertificateStatus.Superseded ? Superseded : Revoked)));
        _devices = new ConcurrentDictionary<DeviceId, DeviceState>(devices.Select(d => KeyValuePair.Create(d.Id, d.State)));
    }
}
