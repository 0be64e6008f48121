using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IotPki.Server.Est;

/// <summary>EST counters and latency (meter <c>IotPki.Est</c>): every enrollment request by operation and outcome
/// (issued, refused, pending), refusals by reason, and the time from the request to its answer.</summary>
public sealed class EstMetrics : IDisposable
{
    public const string MeterName = "IotPki.Est";

    /// <summary>Traces of enrollments: the request, and within it the gate, the CSR, the signature and the commit.</summary>
    public static readonly ActivitySource Tracing = new(MeterName);

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _requests;
    private readonly Counter<long> _refusals;
    private readonly Histogram<double> _duration;

    public EstMetrics()
    {
        _requests = _meter.CreateCounter<long>("iotpki.est.requests", description: "EST enrollment requests by operation and outcome.");
        _refusals = _meter.CreateCounter<long>("iotpki.est.refusals", description: "EST refusals by operation and reason.");
        _duration = _meter.CreateHistogram<double>("iotpki.est.duration", unit: "s",
            description: "Time from an EST enrollment request to its answer, by operation and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
    }

    public void Answered(string operation, string outcome, string? reason, long startedTimestamp)
    {
        var tags = new TagList { { "operation", operation }, { "outcome", outcome } };
        _requests.Add(1, tags);
        _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        if (reason is not null && outcome == "refused")
        {
            _refusals.Add(1, new TagList { { "operation", operation }, { "reason", reason } });
        }
    }

    public void Dispose() => _meter.Dispose();
}
