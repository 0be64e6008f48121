using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;

namespace IotPki.FirmwareSim;

/// <summary>P publishers (devices, each to devices/&lt;id&gt;/telemetry as fast as it can, QoS 1 with a window of
/// in-flight messages) and S subscribers of devices/+/telemetry (service identities), one payload size, for a fixed
/// window after a warm-up. Every message is delivered to every subscriber, so at most S deliveries per publish.</summary>
public sealed class MqttThroughputBenchmark(MqttEndpoint endpoint, MqttQualityOfServiceLevel qos, int payloadBytes, int inflight, ProcessCpu brokerCpu)
{
    /// <summary>Published and Received: in the window. The totals run on until the publishers stopped and the
    /// deliveries drained, so their ratio says how many deliveries the broker dropped.</summary>
    public sealed record Result(long Published, long Received, long PublishedTotal, long ReceivedTotal, double Seconds, int Subscribers, double BrokerCpuSeconds)
    {
        public double PublishedPerSecond => Published / Seconds;
        public double ReceivedPerSecond => Received / Seconds;
        public double DeliveredFraction => PublishedTotal == 0 ? 0 : ReceivedTotal / (PublishedTotal * (double)Subscribers);
    }

    private long _published;
    private long _received;
    private volatile bool _counting;

    public async Task<Result> RunAsync(IReadOnlyList<(string Id, X509Certificate2 Cert)> publishers, IReadOnlyList<(string Name, X509Certificate2 Cert)> subscribers,
        TimeSpan warmUp, TimeSpan window, CancellationToken ct)
    {
        var subscriberClients = new List<IMqttClient>();
        var publisherClients = new List<(string Id, IMqttClient Client)>();
        try
        {
            foreach (var (name, cert) in subscribers)
            {
                var client = await endpoint.ConnectAsync(cert, name, ct);
                client.ApplicationMessageReceivedAsync += _ =>
                {
                    if (_counting)
                    {
                        Interlocked.Increment(ref _received);
                    }
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
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var lanes = publisherClients.SelectMany(p => Enumerable.Range(0, qos == MqttQualityOfServiceLevel.AtMostOnce ? 1 : Math.Max(1, inflight))
                .Select(_ => Task.Run(() => PublishLoop(p.Client, $"devices/{p.Id}/telemetry", payload, stop.Token), CancellationToken.None))).ToList();

            await Task.Delay(warmUp, ct);
            Interlocked.Exchange(ref _published, 0);
            Interlocked.Exchange(ref _received, 0);
            _counting = true;
            var cpu0 = brokerCpu.Seconds();
            var clock = Stopwatch.StartNew();
            await Task.Delay(window, ct);
            var published = Interlocked.Read(ref _published);
            var received = Interlocked.Read(ref _received);
            var cpu1 = brokerCpu.Seconds();
            var seconds = clock.Elapsed.TotalSeconds;
            await stop.CancelAsync();
            await Task.WhenAll(lanes);
            // Drain: what was published in the window and is still on its way.
            var publishedTotal = Interlocked.Read(ref _published);
            long last = -1;
            for (var i = 0; i < 30 && Interlocked.Read(ref _received) != last; i++)
            {
                last = Interlocked.Read(ref _received);
                await Task.Delay(200, ct);
            }
            _counting = false;
            return new Result(published, received, publishedTotal, Interlocked.Read(ref _received), seconds, subscribers.Count, cpu1 - cpu0);
        }
        finally
        {
            foreach (var client in subscriberClients.Concat(publisherClients.Select(p => p.Client)))
            {
                client.Dispose();
            }
        }
    }

    private async Task PublishLoop(IMqttClient client, string topic, byte[] payload, CancellationToken ct)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await client.PublishAsync(message, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            if (_counting)
            {
                Interlocked.Increment(ref _published);
            }
        }
    }
}
