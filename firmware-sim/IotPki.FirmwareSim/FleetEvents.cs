using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace IotPki.FirmwareSim;

/// <summary>What a simulated fleet's agents did, read from the agent library's own log events (their message
/// templates), with the time each step took: counts, latencies, and error reasons.</summary>
public sealed class FleetEvents
{
    public long Enrolled;
    public long Connected;
    public long Asked;
    public long RotationsOnAsk;
    public long RotationsOnTimer;
    public long Renewed;
    public long Refused;
    public long Telemetry;
    /// <summary>Sessions the broker closed (a rotation's takeover, a revocation, the end of the run): counted, not errors.</summary>
    public long SessionsClosed;
    public ConcurrentDictionary<string, long> Errors { get; } = new();
    public ConcurrentBag<double> EnrollMs { get; } = [];
    public ConcurrentBag<double> ConnectMs { get; } = [];
    public ConcurrentBag<double> RotationMs { get; } = [];

    /// <summary>The logger of one simulated device: it times that device's steps.</summary>
    /// <param name="observe">Also sees each of the device's log entries, as template and named values, unformatted
    /// (the fault injector watches a device this way).</param>
    public ILogger ForDevice(Action<string, IReadOnlyList<KeyValuePair<string, object?>>>? observe = null) => new DeviceLog(this, observe);

    private sealed class DeviceLog(FleetEvents events, Action<string, IReadOnlyList<KeyValuePair<string, object?>>>? observe) : ILogger
    {
        private long _started = System.Diagnostics.Stopwatch.GetTimestamp();
        private long _enrolled;
        private long _rotating;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            var template = values.FirstOrDefault(v => v.Key == "{OriginalFormat}").Value as string ?? "";
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            observe?.Invoke(template, values);
            switch (template)
            {
                case var t when t.StartsWith("Enrolling device", StringComparison.Ordinal):
                    _started = now;
                    break;
                case var t when t.StartsWith("Enrolled:", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.Enrolled);
                    events.EnrollMs.Add(Elapsed(_started, now));
                    _enrolled = now;
                    break;
                case var t when t.StartsWith("Connected as", StringComparison.Ordinal):
                    // A reconnect with the current identity (a first connect proves a new certificate, below).
                    Interlocked.Increment(ref events.Connected);
                    break;
                case var t when t.StartsWith("Renew command received on", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.Asked);
                    break;
                case var t when t.StartsWith("Rotating certificate {Serial} on the server", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.RotationsOnAsk);
                    _rotating = now;
                    break;
                case var t when t.StartsWith("Rotating certificate", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.RotationsOnTimer);
                    _rotating = now;
                    break;
                case var t when t.StartsWith("New certificate {Serial} proven", StringComparison.Ordinal) && _enrolled != 0:
                    // A first enrollment's certificate is proven by the device's first connect.
                    Interlocked.Increment(ref events.Connected);
                    events.ConnectMs.Add(Elapsed(_enrolled, now));
                    _enrolled = 0;
                    break;
                case var t when t.StartsWith("New certificate {Serial} proven", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.Renewed);
                    if (_rotating != 0)
                    {
                        events.RotationMs.Add(Elapsed(_rotating, now));
                        _rotating = 0;
                    }
                    break;
                case "Telemetry published":
                    Interlocked.Increment(ref events.Telemetry);
                    break;
                case var t when t.StartsWith("Broker connection closed", StringComparison.Ordinal):
                    Interlocked.Increment(ref events.SessionsClosed);
                    break;
                default:
                    if (logLevel >= LogLevel.Warning)
                    {
                        if (template.Contains("refused", StringComparison.OrdinalIgnoreCase))
                        {
                            Interlocked.Increment(ref events.Refused);
                        }
                        events.Errors.AddOrUpdate(Reason(template), 1, (_, n) => n + 1);
                    }
                    break;
            }
        }

        private static double Elapsed(long from, long to) => (to - from) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;

        /// <summary>The template up to its first placeholder: a stable name for a kind of error.</summary>
        private static string Reason(string template)
        {
            var brace = template.IndexOf('{');
            return (brace > 0 ? template[..brace] : template).Trim().TrimEnd(':', '(', ',');
        }
    }
}
