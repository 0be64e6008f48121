using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary>Registers the serials a manufacturer ships, one by one or from a CSV file.</summary>
public sealed class DeviceRegistration(IotPkiDbContext db, TimeProvider clock)
{
    public const int BatchSize = 1000;

    public sealed record ImportResult(int Added, int AlreadyRegistered, IReadOnlyList<string> Errors);

    public async Task<ImportResult> RegisterAsync(string manufacturerName, IEnumerable<string> serials, string actor, CancellationToken ct)
    {
        var rows = serials.Select((s, i) => (Line: i + 1, Text: s));
        return await ImportAsync(manufacturerName, rows, actor, ct);
    }

    /// <summary>CSV with one serial per line in the first column; an optional header line starting with "serial".
    /// Bad rows are reported by line number; good rows are kept.</summary>
    public async Task<ImportResult> ImportCsvAsync(string manufacturerName, TextReader csv, string actor, CancellationToken ct, int firstLine = 1)
    {
        var rows = new List<(int, string)>();
        var lineNumber = firstLine - 1;
        while (await csv.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            var first = line.Split(',')[0].Trim().Trim('"');
            if (first.Length == 0 || (lineNumber == 1 && first.Equals("serial", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            rows.Add((lineNumber, first));
        }
        return await ImportAsync(manufacturerName, rows, actor, ct);
    }

    private async Task<ImportResult> ImportAsync(string manufacturerName, IEnumerable<(int Line, string Text)> rows, string actor, CancellationToken ct)
    {
        var manufacturer = await db.Manufacturers.AsNoTracking().SingleOrDefaultAsync(m => m.Name == manufacturerName, ct)
            ?? throw new RegistrationException($"No manufacturer named '{manufacturerName}' is registered.");
        var errors = new List<string>();
        var valid = new List<DeviceId>();
        var seen = new HashSet<DeviceId>();
        foreach (var (line, text) in rows)
        {
            var candidate = text.ToLowerInvariant();
            if (!DeviceId.TryParse(candidate, out var id))
            {
                errors.Add($"line {line}: '{Shorten(text)}' is not a valid serial ([a-z0-9][a-z0-9._-]{{2,63}})");
            }
            else if (!seen.Add(id))
            {
                errors.Add($"line {line}: '{id}' appears more than once");
            }
            else
            {
                valid.Add(id);
            }
        }

        var added = 0;
        var already = 0;
        foreach (var batch in valid.Chunk(BatchSize))
        {
            var existing = await db.Devices.AsNoTracking().Where(d => batch.Contains(d.Id))
                .Select(d => new { d.Id, d.ManufacturerId }).ToListAsync(ct);
            foreach (var other in existing.Where(e => e.ManufacturerId != manufacturer.Id))
            {
                errors.Add($"'{other.Id}' is already registered by another manufacturer");
            }
            already += existing.Count(e => e.ManufacturerId == manufacturer.Id);
            var taken = existing.Select(e => e.Id).ToHashSet();
            var now = clock.GetUtcNow();
            var fresh = batch.Where(id => !taken.Contains(id)).ToList();
            foreach (var id in fresh)
            {
                db.Devices.Add(new Device { Id = id, ManufacturerId = manufacturer.Id, State = DeviceState.Registered, RegisteredAt = now });
            }
            if (fresh.Count > 0)
            {
                AuditLog.Add(db, now, "device.registered", actor,
                    deviceId: fresh.Count == 1 ? fresh[0] : (DeviceId?)null,
                    detail: $"{fresh.Count} serial(s) for {manufacturerName}" + (fresh.Count == 1 ? "" : $": {fresh[0]}..{fresh[^1]}"));
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
            }
            added += fresh.Count;
        }
        return new ImportResult(added, already, errors);
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
