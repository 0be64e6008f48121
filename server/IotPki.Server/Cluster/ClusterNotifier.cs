using IotPki.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Cluster;

/// <summary>Sends a notice to every server instance: a <c>pg_notify</c> in the caller's transaction, so PostgreSQL
/// delivers it when (and only if) the change it announces commits; then <see cref="ApplyHereAsync"/> lets this
/// instance act at once rather than on its own NOTIFY's round trip.</summary>
public sealed class ClusterNotifier(IEnumerable<IClusterNoticeHandler> handlers)
{
    public Task NotifyAsync(IotPkiDbContext db, string channel, string payload, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {payload})", ct);

    public async Task ApplyHereAsync(string channel, string payload)
    {
        foreach (var handler in handlers.Where(h => h.Channel == channel))
        {
            await handler.HandleAsync(payload);
        }
    }
}
