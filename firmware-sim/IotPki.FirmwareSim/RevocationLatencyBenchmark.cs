using System.Diagnostics;
using IotPki.Identity;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MQTTnet;

namespace IotPki.FirmwareSim;

/// <summary>Connects N devices to the broker, then revokes them one after another through the operator API
/// (POST /api/v1/devices/{id}/revoke, admin certificate, one keep-alive connection) and times each from sending the
/// request to the device's client seeing its session closed (DisconnectedAsync), and to the API's answer.</summary>
public sealed class RevocationLatencyBenchmark(MqttEndpoint endpoint, Uri operatorApi, X509Certificate2 operatorCertificate, string caBundlePath, Factory factory)
{
    public sealed record Result(int Devices, int Closed, double P50Ms, double P99Ms, double MaxMs, double ApiP50Ms, double ApiP99Ms, string? FirstError);

    public async Task<Result> RunAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        using var http = OperatorClient();
        // Warm the operator connection (TLS handshake, JIT of the endpoint) before the clock runs.
        using (var warm = await http.GetAsync(new Uri(operatorApi, "/api/v1/devices?limit=1"), ct))
        {
            warm.EnsureSuccessStatusCode();
        }
        var devices = new List<(string Id, IMqttClient Client, TaskCompletionSource<long> Closed)>();
        try
        {
            foreach (var id in ids)
            {
                var cert = MqttEndpoint.LoadIdentity(FleetIdentities.CertPath(factory, id), FleetIdentities.KeyPath(factory, id));
                var client = await endpoint.ConnectAsync(cert, id, ct);
                var closed = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                client.DisconnectedAsync += _ =>
                {
                    closed.TrySetResult(Stopwatch.GetTimestamp());
                    return Task.CompletedTask;
                };
                devices.Add((id, client, closed));
            }
            await Task.Delay(500, ct);

            var closeMs = new List<double>();
            var apiMs = new List<double>();
            string? firstError = null;
            foreach (var (id, _, closed) in devices)
            {
                using var body = new StringContent("{\"reason\":\"keyCompromise\"}", Encoding.UTF8, "application/json");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(new Uri(operatorApi, $"/api/v1/devices/{Uri.EscapeDataString(id)}/revoke"), body, ct);
                var answered = Stopwatch.GetTimestamp();
                if (!response.IsSuccessStatusCode)
                {
                    firstError ??= $"{id}: revoke answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}";
                    continue;
                }
                apiMs.Add(Stopwatch.GetElapsedTime(started, answered).TotalMilliseconds);
                var done = await Task.WhenAny(closed.Task, Task.Delay(TimeSpan.FromSeconds(10), ct));
                if (done != closed.Task)
                {
                    firstError ??= $"{id}: session still open 10 s after the revocation";
                    continue;
                }
                closeMs.Add(Stopwatch.GetElapsedTime(started, await closed.Task).TotalMilliseconds);
            }
            var (p50, p99, max) = Percentiles.Summary(closeMs);
            var (apiP50, apiP99, _) = Percentiles.Summary(apiMs);
            return new Result(devices.Count, closeMs.Count, p50, p99, max, apiP50, apiP99, firstError);
        }
        finally
        {
            foreach (var d in devices)
            {
                d.Client.Dispose();
            }
        }
    }

    private HttpClient OperatorClient()
    {
        var handler = MutualTlsHandler.Create(operatorCertificate, MutualTlsHandler.Anchors(caBundlePath));
        return new HttpClient(handler);
    }
}
