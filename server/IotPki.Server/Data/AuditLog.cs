using IotPki.Identity;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Data;

/// <summary>Adds audit rows to the caller's unit of work, so the row commits with the change it describes.</summary>
public static class AuditLog
{
    public static void Add(IotPkiDbContext db, DateTimeOffset at, string action, string actor,
        DeviceId? deviceId = null, string? sourceAddress = null, string? detail = null) =>
        db.AuditEvents.Add(new AuditEvent
        {
            At = at,
            Action = action,
            Actor = Truncate(DbText.Clean(actor), 200),
            DeviceId = deviceId,
            SourceAddress = DbText.CleanOrNull(sourceAddress),
            Detail = detail is null ? null : Truncate(DbText.Clean(detail), 2000),
        });

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
