using System.Diagnostics.Metrics;

namespace IotPki.Server.Revocation;

/// <summary>CRL and OCSP figures (meter <c>IotPki.Revocation</c>): CRL build time, entries and size of the CRL served
/// now, and OCSP answers by outcome (good, revoked, unknown, malformed, unavailable).</summary>
public sealed class RevocationMetrics : IDisposable
{
    public const string MeterName = "IotPki.Revocation";

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _crlBuild;
    private readonly Counter<long> _ocspAnswers;
    private long _crlBytes;
    private long _crlEntries;

    public RevocationMetrics()
    {
        _crlBuild = _meter.CreateHistogram<double>("iotpki.crl.build.duration", unit: "s", description: "Time to build and sign a CRL.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _meter.CreateObservableGauge("iotpki.crl.size", () => Interlocked.Read(ref _crlBytes), unit: "By", description: "Size of the CRL served now.");
        _meter.CreateObservableGauge("iotpki.crl.entries", () => Interlocked.Read(ref _crlEntries), description: "Entries of the CRL served now.");
        _ocspAnswers = _meter.CreateCounter<long>("iotpki.ocsp.answers", description: "OCSP answers by outcome.");
    }

    internal void CrlBuilt(TimeSpan took, int entries, int bytes)
    {
        _crlBuild.Record(took.TotalSeconds);
        Interlocked.Exchange(ref _crlBytes, bytes);
        Interlocked.Exchange(ref _crlEntries, entries);
    }

    internal void OcspAnswered(string outcome) => _ocspAnswers.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => _meter.Dispose();
}
