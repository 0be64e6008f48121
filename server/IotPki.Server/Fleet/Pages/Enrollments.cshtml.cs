using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IotPki.Server.Fleet.Pages;

/// <summary>Devices waiting for an operator (an unregistered serial of a manufacturer whose policy is "pending"):
/// an admin approves or rejects each.</summary>
public sealed class EnrollmentsModel(IotPkiDbContext db, DeviceLifecycle lifecycle) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)] public string? After { get; set; }
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    public Page<DeviceView> Pending { get; private set; } = new([], null);
    public bool CanChange => User.IsInRole(OperatorRole.Admin);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!DeviceQuery.TryParseCursor(string.IsNullOrEmpty(After) ? null : After, out var cursor))
        {
            return BadRequest();
        }
        Pending = await new DeviceQuery(DeviceState.Pending, null, null, null, cursor, PageSize).RunAsync(db, ct);
        return Page();
    }

    public Task<IActionResult> OnPostApproveAsync(string id, CancellationToken ct) => DecideAsync(id, lifecycle.ApproveAsync, "approved", ct);

    public Task<IActionResult> OnPostRejectAsync(string id, CancellationToken ct) => DecideAsync(id, lifecycle.RejectAsync, "rejected", ct);

    private async Task<IActionResult> DecideAsync(string id, Func<IotPki.Identity.DeviceId, string, string?, CancellationToken, Task<DeviceChange>> decide,
        string done, CancellationToken ct)
    {
        if (!CanChange)
        {
            return Forbid();
        }
        if (DeviceRoute.Parse(id) is not { } deviceId)
        {
            return NotFound();
        }
        var change = await decide(deviceId, CallerIdentity.Actor(User), HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        return change.Refusal switch
        {
            null => Redirect($"/fleet/enrollments?done={done}:{Uri.EscapeDataString(id)}"),
            DeviceChangeRefusal.UnknownDevice => NotFound(),
            _ => Redirect($"/fleet/enrollments?done=not-pending:{Uri.EscapeDataString(id)}"),
        };
    }

    public string? DoneMessage => Done?.Split(':', 2) switch
    {
        ["approved", var id] => $"{id} approved: its next enrollment is issued.",
        ["rejected", var id] => $"{id} rejected: its bootstrap certificate cannot enroll.",
        ["not-pending", var id] => $"{id} is no longer pending.",
        _ => null,
    };
}
