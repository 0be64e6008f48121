namespace IotPki.FirmwareSim;

/// <summary>Nearest-rank percentiles of a sample (sorted in place).</summary>
public static class Percentiles
{
    public static double Of(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static (double P50, double P99, double Max) Summary(List<double> sample)
    {
        var sorted = sample.ToArray();
        Array.Sort(sorted);
        return (Of(sorted, 0.50), Of(sorted, 0.99), sorted.Length == 0 ? 0 : sorted[^1]);
    }
}
