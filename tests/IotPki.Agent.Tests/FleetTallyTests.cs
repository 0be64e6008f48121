using IotPki.FirmwareSim;

namespace IotPki.Agent.Tests;

/// <summary>A fleet run as shards (one simulator process each) reports like one run: counts add up and percentiles
/// come from every shard's samples, not from the shards' own percentiles.</summary>
public sealed class FleetTallyTests
{
    [Fact]
    public void Merged_tallies_sum_their_counts_and_take_percentiles_over_all_samples()
    {
        var a = Tally(enrolled: 3, errors: new() { ["EST"] = 1 }, faults: new() { ["clone.injected"] = 1 }, enrollMs: [10, 20, 30], firstConnectAt: [1_000, 2_000]);
        var b = Tally(enrolled: 2, errors: new() { ["EST"] = 2, ["Broker"] = 1 }, faults: new() { ["clone.injected"] = 2 }, enrollMs: [1_000, 2_000], firstConnectAt: [9_500]);

        var merged = FleetTally.Merge([FleetTally.FromJson(a.ToJson()), FleetTally.FromJson(b.ToJson())]);
        var (line, json) = merged.Render(TimeSpan.FromMinutes(1));

        Assert.Contains("enrolled=5 ", line);
        Assert.Contains("errors=4 ", line);
        Assert.Contains("clone.injected=3", line);
        // Five samples 10, 20, 30, 1000, 2000: the median is 30 (a shard's own medians would be 20 and 1000).
        Assert.Contains("enroll_p50_ms=30 ", line);
        Assert.Contains("enroll_p99_ms=2000 ", line);
        Assert.Contains("devices_connected=3 last_first_connect_s=9.5", line);
        Assert.Contains("\"Broker\": 1", json);
    }

    private static FleetTally Tally(long enrolled, Dictionary<string, long> errors, Dictionary<string, long> faults, double[] enrollMs, double[] firstConnectAt) =>
        new(new Dictionary<string, long> { ["enrolled"] = enrolled }, errors, faults,
            new Dictionary<string, double[]> { ["enroll"] = enrollMs, ["first_connect_at"] = firstConnectAt }, FaultsOn: true);
}
