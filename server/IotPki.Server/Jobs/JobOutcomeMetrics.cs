using System.Diagnostics.Metrics;
using Hangfire;
using Hangfire.Server;

namespace IotPki.Server.Jobs;

/// <summary>Hangfire jobs run on this instance by job type and outcome (succeeded, failed), and how long they took
/// (meter <c>IotPki.Jobs</c>). One instance for the process: Hangfire's filters are global.</summary>
public sealed class JobOutcomeMetrics : IServerFilter
{
    public const string MeterName = "IotPki.Jobs";

    public static JobOutcomeMetrics Instance { get; } = new();

    private const string StartedKey = "iotpki.started";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Runs = Meter.CreateCounter<long>("iotpki.jobs.runs", description: "Hangfire job runs by job and outcome.");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("iotpki.jobs.duration", unit: "s",
        description: "Hangfire job run time by job.");

    private JobOutcomeMetrics()
    {
    }

    public static void RegisterOnce()
    {
        lock (GlobalJobFilters.Filters)
        {
            if (!GlobalJobFilters.Filters.Any(f => ReferenceEquals(f.Instance, Instance)))
            {
                GlobalJobFilters.Filters.Add(Instance);
            }
        }
    }

    public void OnPerforming(PerformingContext context) => context.Items[StartedKey] = System.Diagnostics.Stopwatch.GetTimestamp();

    public void OnPerformed(PerformedContext context)
    {
        var job = context.BackgroundJob.Job?.Type.Name ?? "unknown";
        var outcome = context.Exception is null || context.ExceptionHandled ? "succeeded" : "failed";
        Runs.Add(1, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("outcome", outcome));
        if (context.Items.TryGetValue(StartedKey, out var started) && started is long timestamp)
        {
            Duration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(timestamp).TotalSeconds, new KeyValuePair<string, object?>("job", job));
        }
    }
}
