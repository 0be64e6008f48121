using System.Diagnostics.Metrics;

namespace IotPki.Server.Devices;

/// <summary>What the device lifecycle committed, counted (meter <c>IotPki.Devices</c>): certificates issued to devices
/// (first enrollment or renewal), certificates revoked, renewal asks sent, and devices escalated to at-risk or expired.</summary>
public sealed class DeviceMetrics : IDisposable
{
    public const string MeterName = "IotPki.Devices";

    /// <summary>Traces of device transitions (a revocation, from the API call to the commit and its notice).</summary>
    public static readonly System.Diagnostics.ActivitySource Tracing = new(MeterName);

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _issued;
    private readonly Counter<long> _revoked;
    private readonly Counter<long> _asks;
    private readonly Counter<long> _escalated;

    public DeviceMetrics()
    {
        _issued = _meter.CreateCounter<long>("iotpki.certificates.issued", description: "Device certificates issued, by kind (enrollment, renewal).");
        _revoked = _meter.CreateCounter<long>("iotpki.certificates.revoked", description: "Device certificates revoked.");
        _asks = _meter.CreateCounter<long>("iotpki.renewal.asks", description: "Renewal asks sent to devices, by who asked (planner, operator).");
        _escalated = _meter.CreateCounter<long>("iotpki.renewal.escalations", description: "Devices moved to at-risk or expired.");
    }

    internal void Issued(bool initial) => _issued.Add(1, new KeyValuePair<string, object?>("kind", initial ? "enrollment" : "renewal"));
    internal void Revoked(int certificates) => _revoked.Add(certificates);
    internal void Asked(int devices, string actor) =>
        _asks.Add(devices, new KeyValuePair<string, object?>("by", actor == DeviceLifecycle.PlannerActor ? "planner" : "operator"));
    internal void Escalated(int devices, string status) => _escalated.Add(devices, new KeyValuePair<string, object?>("status", status));

    public void Dispose() => _meter.Dispose();
}
