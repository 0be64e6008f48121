using System.Globalization;
using System.Text.Json;
using IotPki.Agent;

namespace IotPki.FirmwareSim;

/// <summary>N devices of a factory directory, each running the device-agent library (not a copy of it) with its own
/// state directory: enroll, connect, hold the session, rotate on their timer and on the server's ask; spread over one
/// or more server instances. A live progress line, then a summary (also as JSON).</summary>
public sealed class FleetRun(Factory factory, IReadOnlyList<(Uri Est, Uri Broker)> servers, string caBundlePath, double startsPerSecond,
    double renewalFraction)
{
    public FleetEvents Events { get; } = new();

    public async Task RunAsync(IReadOnlyList<string> deviceIds, TimeSpan duration, TextWriter progress, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(duration);
        var agents = new List<Task>(deviceIds.Count);
        var started = DateTime.UtcNow;
        using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(5));
        var report = Task.Run(async () =>
        {
            try
            {
                while (await ticker.WaitForNextTickAsync(stop.Token))
                {
                    await progress.WriteLineAsync(Line(DateTime.UtcNow - started, agents.Count));
                }
            }
            catch (OperationCanceledException)
            {
                // The run's end; the final line is written below.
            }
        }, CancellationToken.None);
        for (var i = 0; i < deviceIds.Count && !stop.IsCancellationRequested; i++)
        {
            agents.Add(RunDeviceAsync(deviceIds[i], servers[i % servers.Count], stop.Token));
            if (startsPerSecond > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1 / startsPerSecond), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    // The run ended while devices were still starting; the loop condition stops here.
                }
            }
        }
        await Task.WhenAll(agents);
        await report;
        await progress.WriteLineAsync(Line(DateTime.UtcNow - started, agents.Count));
    }

    private async Task RunDeviceAsync(string id, (Uri Est, Uri Broker) server, CancellationToken ct)
    {
        var dir = Path.Combine(factory.DevicesDirectory, id);
        var options = new AgentOptions
        {
            EstUrl = server.Est,
            BrokerUrl = server.Broker,
            TrustBundlePath = caBundlePath,
            BootstrapCertificatePath = Path.Combine(dir, "boot.pem"),
            BootstrapKeyPath = Path.Combine(dir, "boot.key"),
            StateDirectory = Path.Combine(dir, "state"),
            RenewalFraction = renewalFraction,
        };
        await Task.Yield();
        try
        {
            await new DeviceAgent(options, Events.ForDevice()).RunAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run's end stops every agent; that is not an error.
        }
        catch (Exception e)
        {
            Events.Errors.AddOrUpdate($"agent stopped: {e.GetType().Name}", 1, (_, n) => n + 1);
        }
    }

    private string Line(TimeSpan elapsed, int running) => string.Create(CultureInfo.InvariantCulture,
        $"[{elapsed:hh\\:mm\\:ss}] devices={running} enrolled={Events.Enrolled} connected={Events.Connected} asked={Events.Asked} " +
        $"renewed={Events.Renewed} refused={Events.Refused} errors={Events.Errors.Values.Sum()}");

    /// <summary>key=value figures on one line, and the same as JSON.</summary>
    public (string Line, string Json) Summary(TimeSpan duration)
    {
        static (double P50, double P95, double P99) Of(IEnumerable<double> sample)
        {
            var sorted = sample.ToArray();
            Array.Sort(sorted);
            return (Percentiles.Of(sorted, 0.50), Percentiles.Of(sorted, 0.95), Percentiles.Of(sorted, 0.99));
        }
        var enroll = Of(Events.EnrollMs);
        var connect = Of(Events.ConnectMs);
        var rotation = Of(Events.RotationMs);
        var summary = new
        {
            seconds = duration.TotalSeconds,
            enrolled = Events.Enrolled,
            connected = Events.Connected,
            asked = Events.Asked,
            rotationsOnAsk = Events.RotationsOnAsk,
            rotationsOnTimer = Events.RotationsOnTimer,
            renewed = Events.Renewed,
            refused = Events.Refused,
            enrollMs = new { p50 = enroll.P50, p95 = enroll.P95, p99 = enroll.P99 },
            connectMs = new { p50 = connect.P50, p95 = connect.P95, p99 = connect.P99 },
            rotationMs = new { p50 = rotation.P50, p95 = rotation.P95, p99 = rotation.P99 },
            errors = Events.Errors.OrderByDescending(e => e.Value).ToDictionary(e => e.Key, e => e.Value),
        };
        var line = string.Create(CultureInfo.InvariantCulture,
            $"enrolled={Events.Enrolled} connected={Events.Connected} asked={Events.Asked} rotations_on_ask={Events.RotationsOnAsk} " +
            $"rotations_on_timer={Events.RotationsOnTimer} renewed={Events.Renewed} refused={Events.Refused} errors={Events.Errors.Values.Sum()} " +
            $"enroll_p50_ms={enroll.P50:F0} enroll_p95_ms={enroll.P95:F0} enroll_p99_ms={enroll.P99:F0} " +
            $"connect_p50_ms={connect.P50:F0} connect_p99_ms={connect.P99:F0} rotation_p50_ms={rotation.P50:F0} rotation_p95_ms={rotation.P95:F0} rotation_p99_ms={rotation.P99:F0}");
        return (line, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
    }
}
