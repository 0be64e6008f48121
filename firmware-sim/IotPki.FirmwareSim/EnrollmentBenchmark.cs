using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Pki;

namespace IotPki.FirmwareSim;

/// <summary>Enrolls every device of a factory directory once, each on a fresh TLS connection as a real device would,
/// and reports throughput and latency percentiles.</summary>
public sealed class EnrollmentBenchmark(Uri estBase, string caBundlePath, Factory factory, int concurrency, bool handshakeOnly = false)
{
    public sealed record Result(int Devices, int Failures, double Seconds, double PerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError);

    public async Task<Result> RunAsync(IReadOnlyList<string> deviceIds, CancellationToken ct)
    {
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(caBundlePath);
        var latencies = new double[deviceIds.Count];
        var failures = 0;
        string? firstError = null;
        var next = -1;
        var clock = Stopwatch.StartNew();

        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < deviceIds.Count)
            {
                var id = deviceIds[i];
                var dir = Path.Combine(factory.DevicesDirectory, id);
                using var bootstrap = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                var csr = Convert.ToBase64String(new CertificateRequest($"CN={id}", key, HashAlgorithmName.SHA256).CreateSigningRequest());
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var client = EstHttpClient.Create(bootstrap, anchors);
                    using var content = new StringContent(csr, Encoding.ASCII);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pkcs10");
                    using var response = handshakeOnly
                        ? await client.GetAsync(new Uri(estBase, "/healthz"), ct)
                        : await client.PostAsync(new Uri(estBase, "/.well-known/est/simpleenroll"), content, ct);
                    var body = await response.Content.ReadAsStringAsync(ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new HttpRequestException($"{(int)response.StatusCode}: {body}");
                    }
                    if (!handshakeOnly)
                    {
                        CertsOnlyPkcs7.Decode(Convert.FromBase64String(body));
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or FormatException or CryptographicException)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, $"{id}: {e.Message}", null);
                }
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker, ct)));
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Result(deviceIds.Count, failures, seconds, deviceIds.Count / seconds,
            Percentiles.Of(latencies, 0.50), Percentiles.Of(latencies, 0.99), latencies[^1], firstError);
    }
}
