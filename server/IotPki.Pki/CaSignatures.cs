using System.Diagnostics.Metrics;

namespace IotPki.Pki;

/// <summary>Every signature made with a CA key, counted by what it signed (meter <c>IotPki.Ca</c>,
/// <c>iotpki_ca_signatures_total</c> in Prometheus).</summary>
public static class CaSignatures
{
    public const string MeterName = "IotPki.Ca";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Signatures = Meter.CreateCounter<long>("iotpki.ca.signatures",
        description: "Signatures made with a CA key, by what was signed (certificate, crl, ocsp).");

    internal static void Signed(string what) => Signatures.Add(1, new KeyValuePair<string, object?>("signed", what));
}
