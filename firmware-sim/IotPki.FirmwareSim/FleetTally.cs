using System.Globalization;
using System.Text.Json;

namespace IotPki.FirmwareSim;

/// <summary>What a fleet run counted, with its raw latency samples, so that the tallies of several simulator
/// processes (a fleet too large for one process's descriptors, run as shards) merge into one summary.</summary>
public sealed record FleetTally(
    Dictionary<string, long> Counts, Dictionary<string, long> Errors, Dictionary<string, long> Faults,
    Dictionary<string, double[]> SamplesMs, bool FaultsOn)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static FleetTally Merge(IReadOnlyList<FleetTally> parts) => new(
        Sum(parts.Select(p => p.Counts)), Sum(parts.Select(p => p.Errors)), Sum(parts.Select(p => p.Faults)),
        parts.SelectMany(p => p.SamplesMs).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.SelectMany(s => s.Value).ToArray()),
        parts.Any(p => p.FaultsOn));

    public string ToJson() => JsonSerializer.Serialize(this);

    public static FleetTally FromJson(string json) =>
        JsonSerializer.Deserialize<FleetTally>(json) ?? throw new FormatException("Not a fleet tally.");

    /// <summary>The one-line summary and the JSON report of the run.</summary>
    public (string Line, string Json) Render(TimeSpan duration)
    {
        var enroll = Of("enroll");
        var connect = Of("connect");
        var rotation = Of("rotation");
        var revocation = Of("revocation_close");
        var firstConnects = SamplesMs.GetValueOrDefault("first_connect_at", []);
        var allConnectedS = firstConnects.Length == 0 ? 0 : firstConnects.Max() / 1000;
        long C(string name) => Counts.GetValueOrDefault(name);
        var summary = new
        {
            seconds = duration.TotalSeconds,
            enrolled = C("enrolled"),
            connected = C("connected"),
            asked = C("asked"),
            rotationsOnAsk = C("rotations_on_ask"),
            rotationsOnTimer = C("rotations_on_timer"),
            renewed = C("renewed"),
            telemetry = C("telemetry"),
            refused = C("refused"),
            enrollMs = new { p50 = enroll.P50, p95 = enroll.P95, p99 = enroll.P99 },
            connectMs = new { p50 = connect.P50, p95 = connect.P95, p99 = connect.P99 },
            rotationMs = new { p50 = rotation.P50, p95 = rotation.P95, p99 = rotation.P99 },
            errors = Errors.OrderByDescending(e => e.Value).ToDictionary(e => e.Key, e => e.Value),
            faults = Faults.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value),
            revocationCloseMs = new { p50 = revocation.P50, p95 = revocation.P95, p99 = revocation.P99 },
            devicesConnected = firstConnects.Length,
            lastFirstConnectSeconds = allConnectedS,
        };
        var line = string.Create(CultureInfo.InvariantCulture,
            $"enrolled={C("enrolled")} connected={C("connected")} asked={C("asked")} rotations_on_ask={C("rotations_on_ask")} " +
            $"rotations_on_timer={C("rotations_on_timer")} renewed={C("renewed")} telemetry={C("telemetry")} refused={C("refused")} errors={Errors.Values.Sum()} " +
            $"enroll_p50_ms={enroll.P50:F0} enroll_p95_ms={enroll.P95:F0} enroll_p99_ms={enroll.P99:F0} " +
            $"connect_p50_ms={connect.P50:F0} connect_p99_ms={connect.P99:F0} rotation_p50_ms={rotation.P50:F0} rotation_p95_ms={rotation.P95:F0} rotation_p99_ms={rotation.P99:F0} " +
            $"devices_connected={firstConnects.Length} last_first_connect_s={allConnectedS:F1}");
        if (FaultsOn)
        {
            line += string.Create(CultureInfo.InvariantCulture,
                $" revocation_close_p50_ms={revocation.P50:F0} revocation_close_p99_ms={revocation.P99:F0} ") +
                string.Join(' ', Faults.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")));
        }
        return (line, JsonSerializer.Serialize(summary, Indented));
    }

    private (double P50, double P95, double P99) Of(string sample)
    {
        var sorted = SamplesMs.GetValueOrDefault(sample, []).ToArray();
        Array.Sort(sorted);
        return (Percentiles.Of(sorted, 0.50), Percentiles.Of(sorted, 0.95), Percentiles.Of(sorted, 0.99));
    }

    private static Dictionary<string, long> Sum(IEnumerable<Dictionary<string, long>> parts) =>
        parts.SelectMany(p => p).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
}
