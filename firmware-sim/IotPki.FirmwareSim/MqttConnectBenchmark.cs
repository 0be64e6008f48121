using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;

namespace IotPki.FirmwareSim;

/// <summary>N device connects, each a new TCP + TLS (client certificate) + MQTT CONNECT/CONNACK with the device id as
/// client id, C at a time. Without hold every client disconnects cleanly once accepted; with hold all stay connected
/// and idle until the process is signalled, so that the broker's resident memory per session can be read.</summary>
public sealed class MqttConnectBenchmark(MqttEndpoint endpoint, Factory factory, int concurrency)
{
    public sealed record Result(int Connects, int Failures, double Seconds, double PerSecond, double P50Ms, double P99Ms, double MaxMs, string? FirstError);

    private readonly List<IMqttClient> _held = [];

    public IReadOnlyList<IMqttClient> Held => _held;

    public async Task<Result> RunAsync(IReadOnlyList<string> ids, bool hold, CancellationToken ct)
    {
        // Identities are read before the clock starts: only the network work is timed.
        var identities = ids.Select(id => (Id: id, Cert: MqttEndpoint.LoadIdentity(FleetIdentities.CertPath(factory, id), FleetIdentities.KeyPath(factory, id)))).ToList();
        var latencies = new List<double>(ids.Count);
        var clock = Stopwatch.StartNew();

        var (failures, firstError) = await WorkQueue.RunAsync(identities.Count, concurrency, async i =>
        {
            var (id, cert) = identities[i];
            var started = Stopwatch.GetTimestamp();
            try
            {
                var client = await endpoint.ConnectAsync(cert, id, ct);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (latencies)
                {
                    latencies.Add(ms);
                    if (hold)
                    {
                        _held.Add(client);
                    }
                }
                if (!hold)
                {
                    await client.DisconnectAsync(new MqttClientDisconnectOptions(), ct);
                    client.Dispose();
                }
                return null;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return $"{id}: {e.GetType().Name}: {e.Message}";
            }
        }, ct);

        var seconds = clock.Elapsed.TotalSeconds;
        var (p50, p99, max) = Percentiles.Summary(latencies);
        return new Result(identities.Count, failures, seconds, latencies.Count / seconds, p50, p99, max, firstError);
    }

    /// <summary>Drops the held connections without a DISCONNECT packet round trip per client.</summary>
    public void Release()
    {
        foreach (var client in _held)
        {
            client.Dispose();
        }
        _held.Clear();
    }
}
