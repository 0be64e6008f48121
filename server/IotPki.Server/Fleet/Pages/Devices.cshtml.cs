using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet.Pages;

/// <summary>The device list with the API's filters, keyset-paged by id (the same cost on page 1 as on page 10,000).</summary>
public sealed class DevicesModel(IotPkiDbContext db, TimeProvider clock) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? State { get; set; }
    [BindProperty(SupportsGet = true)] public string? Manufacturer { get; set; }
    [BindProperty(SupportsGet = true)] public string? Renewal { get; set; }
    [BindProperty(SupportsGet = true)] public int? ExpiringWithinDays { get; set; }
    [BindProperty(SupportsGet = true)] public string? Find { get; set; }
    [BindProperty(SupportsGet = true)] public string? After { get; set; }

    public Page<DeviceView> Devices { get; private set; } = new([], null);
    public IReadOnlyList<string> Manufacturers { get; private set; } = [];
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        Manufacturers = await db.Manufacturers.AsNoTracking().OrderBy(m => m.Name).Select(m => m.Name).ToListAsync(ct);
        if (!string.IsNullOrWhiteSpace(Find))
        {
            // An exact id goes straight to its page.
            var id = DeviceRoute.Parse(Find.Trim().ToLowerInvariant());
            if (id is not null && await db.Devices.AnyAsync(d => d.Id == id, ct))
            {
                return Redirect($"/fleet/devices/{Uri.EscapeDataString(id.Value.Value)}");
            }
            Problem = $"No device '{Find}'.";
        }
        DeviceState? state = null;
        if (!string.IsNullOrEmpty(State))
        {
            if (!DeviceStateNames.TryParse(State, out var s)) { Problem = $"Unknown state '{State}'."; return Page(); }
            state = s;
        }
        RenewalStatus? renewal = null;
        if (!string.IsNullOrEmpty(Renewal))
        {
            if (!RenewalStatusNames.TryParse(Renewal, out var r)) { Problem = $"Unknown renewal status '{Renewal}'."; return Page(); }
            renewal = r;
        }
        if (ExpiringWithinDays is < 0 or > 3650)
        {
            Problem = "Expiring within must be 0 to 3650 days.";
            return Page();
        }
        if (!DeviceQuery.TryParseCursor(string.IsNullOrEmpty(After) ? null : After, out var cursor))
        {
            Problem = DeviceQuery.BadCursor;
            return Page();
        }
        var expiring = ExpiringWithinDays is { } days ? clock.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
        Devices = await new DeviceQuery(state, string.IsNullOrEmpty(Manufacturer) ? null : Manufacturer, expiring, null, cursor, PageSize)
            { Renewal = renewal }.RunAsync(db, ct);
        return Page();
    }

    /// <summary>This list's filters with the next page's cursor.</summary>
    public string NextPageUrl() => QueryString.Create(new Dictionary<string, string?>
    {
        ["state"] = State, ["manufacturer"] = Manufacturer, ["renewal"] = Renewal,
        ["expiringWithinDays"] = ExpiringWithinDays?.ToString(System.Globalization.CultureInfo.InvariantCulture), ["after"] = Devices.Next,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();
}
