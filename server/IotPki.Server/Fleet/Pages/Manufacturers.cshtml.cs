using IotPki.Server.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet.Pages;

/// <summary>Manufacturers, their CA, their policies, and how many devices each has by state.</summary>
public sealed class ManufacturersModel(IotPkiDbContext db) : PageModel
{
    public IReadOnlyList<ManufacturerView> Manufacturers { get; private set; } = [];
    public IReadOnlyDictionary<int, long> DeviceCounts { get; private set; } = new Dictionary<int, long>();

    public async Task OnGetAsync(CancellationToken ct)
    {
        Manufacturers = await db.Manufacturers.AsNoTracking().OrderBy(m => m.Name).Select(ManufacturerView.FromEntity).ToListAsync(ct);
        DeviceCounts = await db.Devices.GroupBy(d => d.ManufacturerId).Select(g => new { g.Key, Count = g.LongCount() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, ct);
    }
}
