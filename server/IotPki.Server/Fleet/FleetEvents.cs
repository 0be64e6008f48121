using System.Globalization;
using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Operators;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Fleet;

/// <summary><c>GET /fleet/events?ids=a,b</c>: server-sent events for the fleet pages. Each second the online state of
/// the listed devices (at most <see cref="MaxDevices"/>), every five the number online; an event only on a change. The
/// database is the source, so a device that moves to another instance is seen the same.</summary>
public static class FleetEvents
{
    public const int MaxDevices = 200;

    public static void MapFleetEvents(this IEndpointRouteBuilder app)
    {
        app.MapGet("/fleet/events", StreamAsync).RequireAuthorization(OperatorRole.CanRead).ExcludeFromDescription();
    }

    private static async Task StreamAsync(HttpContext http, IServiceScopeFactory scopes, TimeProvider clock, string? ids = null)
    {
        var wanted = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(i => DeviceId.TryParse(i, out var id) ? id : (DeviceId?)null).OfType<DeviceId>().Distinct().ToList();
        if (wanted.Count > MaxDevices)
        {
            await Results.Problem(statusCode: 400, title: "Bad request", detail: $"At most {MaxDevices} devices per event stream.").ExecuteAsync(http);
            return;
        }
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var ct = http.RequestAborted;
        var known = new Dictionary<DeviceId, bool>();
        long? count = null;
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
        try
        {
            for (var round = 0; ; round++)
            {
                // A context per round, back to the pool at once: a page left open does not hold one.
                await using (var scope = scopes.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
                    if (wanted.Count > 0)
                    {
                        var states = await db.Devices.AsNoTracking().Where(d => wanted.Contains(d.Id)).Select(d => new { d.Id, d.Online }).ToListAsync(ct);
                        foreach (var device in states.Where(s => !known.TryGetValue(s.Id, out var was) || was != s.Online))
                        {
                            known[device.Id] = device.Online;
                            await http.Response.WriteAsync($"event: device\ndata: {{\"id\":\"{device.Id}\",\"online\":{(device.Online ? "true" : "false")}}}\n\n", ct);
                        }
                    }
                    if (round % 5 == 0)
                    {
                        var online = await db.Devices.LongCountAsync(d => d.Online, ct);
                        if (online != count)
                        {
                            count = online;
                            await http.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"event: online-count\ndata: {online}\n\n"), ct);
                        }
                    }
                }
                await http.Response.Body.FlushAsync(ct);
                await tick.WaitForNextTickAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The page was closed.
        }
    }
}
