using IotPki.Server.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IotPki.Server.Fleet.Pages;

/// <summary>The audit log, newest first, with the API's filters.</summary>
public sealed class AuditModel(IotPkiDbContext db) : PageModel
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true)] public string? DeviceId { get; set; }
    [BindProperty(SupportsGet = true)] public string? Action { get; set; }
    [BindProperty(SupportsGet = true)] public string? Actor { get; set; }
    [BindProperty(SupportsGet = true)] public long? Before { get; set; }

    public Page<AuditEventView> Events { get; private set; } = new([], null);

    public async Task OnGetAsync(CancellationToken ct) =>
        Events = await new AuditQuery(Blank(DeviceId), Blank(Action), Blank(Actor), null, Before, PageSize).RunAsync(db, ct);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public string NextPageUrl() => QueryString.Create(new Dictionary<string, string?>
    {
        ["deviceId"] = DeviceId, ["action"] = Action, ["actor"] = Actor, ["before"] = Events.Next,
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToUriComponent();
}
