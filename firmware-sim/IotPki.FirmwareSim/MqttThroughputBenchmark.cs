using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.FirmwareSim;

/// <summary>P publishers (devices, each to devices/&lt;id&gt;/telemetry as fast as it can, QoS 1 with a window of
/// in-flight messages) and S subscribers of devices/+/telemetry (service identities), one payload size, for a fixed
/// window after a warm-up. Every message is delivered to every subscriber, so at most S deliveries per publish.</summary>
public sealed class MqttThroughputBenchmark(MqttEndpoint endpoint, MqttQualityOfServiceLevel qos, int payloadBytes, int inflight, ProcessCpu brokerCpu,
    int? subscriberSocketBufferBytes = null)
{
    /// <summary>Published and Received: in the window. The totals run on until the publishers stopped and the
    /// deliveries drained, so their ratio says how many deliveries the broker dropped.</summary>
    /// <param name="StartedDrained">Every delivery of the warm-up arrived before the window opened.</param>
    public sealed record Result(long Published, long Received, long PublishedTotal, long ReceivedTotal, double Seconds, int Subscribers, double BrokerCpuSeconds,
        bool StartedDrained)
    {
        public double PublishedPerSecond => Published / Seconds;
        public double ReceivedPerSecond => Received / Seconds;
        public double DeliveredFraction => PublishedTotal == 0 ? 0 : ReceivedTotal / (PublishedTotal * (double)Subscribers);
    }

    private long _published;
    private long _received;

    public async Task<Result> RunAsync(IReadOnlyList<(string Id, X509Certificate2 Cert)> publishers, IReadOnlyList<(string Name, X509Certificate2 Cert)> subscribers,
        TimeSpan warmUp, TimeSpan window, CancellationToken ct)
    {
        var subscriberClients = new List<IMqttClient>();
        var publisherClients = new List<(string Id, IMqttClient Client)>();
        try
        {
            foreach (var (name, cert) in subscribers)
            {
                var client = await endpoint.ConnectAsync(cert, name, ct, subscriberSocketBufferBytes);
                client.ApplicationMessageReceivedAsync += _ =>
                {
                    Interlocked.Increment(ref _received);
                    return Task.CompletedTask;
                };
                var sub = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("devices/+/telemetry", qos).Build(), ct);
                var code = sub.Items.Single().ResultCode;
                if ((int)code > 2)
                {
                    throw new InvalidOperationException($"{name}: subscription refused ({code})");
                }
                subscriberClients.Add(client);
            }
            foreach (var (id, cert) in publishers)
            {
                publisherClients.Add((id, await endpoint.ConnectAsync(cert, id, ct)));
            }

            var payload = RandomNumberGenerator.GetBytes(payloadBytes);
            // Warm-up (JIT, buffers), then drain, so the window starts with empty queues.
            await PublishForAsync(publisherClients, payload, warmUp);
            var startedDrained = await DrainAsync(Interlocked.Read(ref _published) * subscribers.Count, ct);

            Interlocked.Exchange(ref _published, 0);
            Interlocked.Exchange(ref _received, 0);
            long published = 0, received = 0;
            double cpu0 = 0, cpu1 = 0, seconds = 0;
            await PublishForAsync(publisherClients, payload, window, onStart: () => cpu0 = brokerCpu.Seconds(), onWindowEnd: elapsed =>
            {
                published = Interlocked.Read(ref _published);
                received = Interlocked.Read(ref _received);
                cpu1 = brokerCpu.Seconds();
                seconds = elapsed;
            });
            // What was published and is still on its way: the totals say how many deliveries were dropped.
            var publishedTotal = Interlocked.Read(ref _published);
            await DrainAsync(publishedTotal * subscribers.Count, ct);
            return new Result(published, received, publishedTotal, Interlocked.Read(ref _received), seconds, subscribers.Count, cpu1 - cpu0, startedDrained);
        }
        finally
        {
            foreach (var client in subscriberClients.Concat(publisherClients.Select(p => p.Client)))
            {
                client.Dispose();
            }
        }
    }

    private async Task PublishForAsync(List<(string Id, IMqttClient Client)> publishers, byte[] payload, TimeSpan duration,
        Action? onStart = null, Action<double>? onWindowEnd = null)
    {
        var stop = new StrongBox<bool>(false);
        var lanesPerPublisher = qos == MqttQualityOfServiceLevel.AtMostOnce ? 1 : Math.Max(1, inflight);
        onStart?.Invoke();
        var clock = Stopwatch.StartNew();
        var lanes = publishers.SelectMany(p => Enumerable.Range(0, lanesPerPublisher)
            .Select(_ => Task.Run(() => PublishLoop(p.Client, $"devices/{p.Id}/telemetry", payload, stop)))).ToList();
        await Task.Delay(duration);
        onWindowEnd?.Invoke(clock.Elapsed.TotalSeconds);
        Volatile.Write(ref stop.Value, true);
        await Task.WhenAll(lanes);
    }

    /// <summary>Waits until every delivery owed has arrived (true), or none arrived for 2 s (false: the rest were
    /// dropped). A publish still in a socket buffer when the window closed is owed too.</summary>
    private async Task<bool> DrainAsync(long owed, CancellationToken ct)
    {
        var last = Interlocked.Read(ref _received);
        var idle = Stopwatch.StartNew();
        while (Interlocked.Read(ref _received) < owed)
        {
            await Task.Delay(100, ct);
            var now = Interlocked.Read(ref _received);
            if (now != last)
            {
                last = now;
                idle.Restart();
            }
            else if (idle.Elapsed > TimeSpan.FromSeconds(2))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Publishes one message after another; QoS 1 waits for each PUBACK (not cancelled: every started
    /// publish completes, so the count is exact).</summary>
    private async Task PublishLoop(IMqttClient client, string topic, byte[] payload, StrongBox<bool> stop)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build();
        while (!Volatile.Read(ref stop.Value))
        {
            await client.PublishAsync(message, CancellationToken.None);
            Interlocked.Increment(ref _published);
        }
    }
}
