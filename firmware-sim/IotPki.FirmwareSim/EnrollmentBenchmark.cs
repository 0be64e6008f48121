using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.FirmwareSim;

/// <summary>Enrolls every device of a factory directory once, each on a fresh TLS connection as a real device would,
/// and reports throughput and latency percentiles. With <paramref name="reenroll"/>, each device re-enrolls with the
/// operational identity <c>fleet-identities</c> gave it (<c>simplereenroll</c>, the renewal path).</summary>
public sealed class EnrollmentBenchmark(Uri estBase, string caBundlePath, Factory factory, int concurrency, bool handshakeOnly = false,
    bool reenroll = false)
{
    public sealed record Result(int Devices, int Failures, double Seconds, double PerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError);

    public async Task<Result> RunAsync(IReadOnlyList<string> deviceIds, CancellationToken ct)
    {
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(caBundlePath);
        var latencies = new double[deviceIds.Count];
        var clock = Stopwatch.StartNew();

        var (failures, firstError) = await WorkQueue.RunAsync(deviceIds.Count, concurrency, async i =>
        {
            var id = deviceIds[i];
            var dir = Path.Combine(factory.DevicesDirectory, id);
            using var bootstrap = reenroll
                ? X509Certificate2.CreateFromPemFile(FleetIdentities.CertPath(factory, id), FleetIdentities.KeyPath(factory, id))
                : X509Certificate2.CreateFromPemFile(Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var csr = EstHttpClient.CsrBase64(id, key);
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var client = EstHttpClient.Create(bootstrap, anchors);
                if (handshakeOnly)
                {
                    using var response = await client.GetAsync(new Uri(estBase, "/healthz"), ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
                    }
                }
                else
                {
                    foreach (var certificate in await EstHttpClient.SimpleEnrollAsync(client, estBase, csr, ct, reenroll ? "simplereenroll" : "simpleenroll"))
                    {
                        certificate.Dispose();
                    }
                }
                return null;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or FormatException or CryptographicException)
            {
                return $"{id}: {e.Message}";
            }
            finally
            {
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }, ct);

        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Result(deviceIds.Count, failures, seconds, deviceIds.Count / seconds,
            Percentiles.Of(latencies, 0.50), Percentiles.Of(latencies, 0.99), latencies[^1], firstError);
    }
}
