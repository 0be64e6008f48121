using IotPki.Server.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IotPki.Server.Fleet.Pages;

public sealed class OverviewModel(IotPkiDbContext db, TimeProvider clock) : PageModel
{
    public FleetOverview Overview { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Overview = await FleetOverview.LoadAsync(db, clock.GetUtcNow(), ct);
}
