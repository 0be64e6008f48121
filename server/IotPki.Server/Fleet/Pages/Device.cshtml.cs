using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Devices;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IotPki.Server.Fleet.Pages;

/// <summary>One device: its facts, certificate history, renewal cycle and audit trail; an admin may revoke it (a reason
/// and a confirmation) or ask it to renew.</summary>
public sealed class DeviceModel(IotPkiDbContext db, DeviceLifecycle lifecycle) : PageModel
{
    public DeviceDetailView Detail { get; private set; } = null!;
    public Page<AuditEventView> Audit { get; private set; } = new([], null);
    public bool CanChange => User.IsInRole(OperatorRole.Admin);

    /// <summary>What the last action did, shown once after its redirect.</summary>
    [BindProperty(SupportsGet = true)] public string? Done { get; set; }
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) => await LoadAsync(id, ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostRevokeAsync(string id, string? reason, string? confirm, CancellationToken ct)
    {
        if (!CanChange)
        {
            return Forbid();
        }
        if (DeviceRoute.Parse(id) is not { } deviceId)
        {
            return NotFound();
        }
        if (!RevocationReason.TryParse(reason, out var code) || confirm != "yes")
        {
            Problem = confirm != "yes" ? "Tick the confirmation to revoke." : $"Unknown revocation reason '{reason}'.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await LoadAsync(id, ct) ? Page() : NotFound();
        }
        var revoked = await lifecycle.RevokeAsync(deviceId, code, CallerIdentity.Actor(User), HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        return revoked is null ? NotFound() : Redirect($"/fleet/devices/{Uri.EscapeDataString(id)}?done=revoked");
    }

    public async Task<IActionResult> OnPostRenewAsync(string id, CancellationToken ct)
    {
        if (!CanChange)
        {
            return Forbid();
        }
        if (DeviceRoute.Parse(id) is not { } deviceId)
        {
            return NotFound();
        }
        var (change, notice) = await lifecycle.AskRenewalAsync(deviceId, CallerIdentity.Actor(User), HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        if (change.Refusal == DeviceChangeRefusal.UnknownDevice)
        {
            return NotFound();
        }
        var done = notice is null ? "renew-refused" : change.Device!.Online ? "renew-sent" : "renew-queued";
        return Redirect($"/fleet/devices/{Uri.EscapeDataString(id)}?done={done}");
    }

    private async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        if (DeviceRoute.Parse(id) is not { } deviceId || await DeviceDetailView.LoadAsync(db, deviceId, ct) is not { } detail)
        {
            return false;
        }
        Detail = detail;
        Audit = await new AuditQuery(deviceId.Value, null, null, null, null, 50).RunAsync(db, ct);
        return true;
    }

    public string? DoneMessage => Done switch
    {
        "revoked" => "Revoked: its certificates are on the CRL, OCSP answers revoked, its broker session is closed and its bootstrap certificate can no longer enroll.",
        "renew-sent" => "Renew command sent: the device is online and rotates now.",
        "renew-queued" => "Renewal asked: the device is offline and gets the command when it next connects.",
        "renew-refused" => "Only an active device can renew.",
        _ => null,
    };
}
