using IotPki.Identity;
using IotPki.Server.Devices;

namespace IotPki.Server.Renewal;

/// <summary>One Hangfire job of up to <see cref="RenewalPlanner.BatchSize"/> devices: asks those still due (a device a
/// connect or another instance asked meanwhile is not asked again). Re-entrant: a retried batch asks nobody twice.</summary>
public sealed class RenewalAskBatch(DeviceLifecycle lifecycle)
{
    public async Task<int> RunAsync(string[] deviceIds, CancellationToken ct)
    {
        var ids = deviceIds.Select(id => DeviceId.TryParse(id, out var parsed) ? parsed : (DeviceId?)null).OfType<DeviceId>().ToList();
        var asked = await lifecycle.AskRenewalsAsync(ids, onlineOnly: true, DeviceLifecycle.PlannerActor, ct);
        return asked.Count;
    }
}
