using System.Diagnostics.Metrics;

namespace IotPki.Server.Broker;

/// <summary>Broker counters (meter "IotPki.Broker"), readable with dotnet-counters and at <c>GET /api/v1/broker</c>.</summary>
public sealed class BrokerMetrics : IDisposable
{
    /// <summary>Traces of what the broker does for the cluster (closing a revoked device's sessions).</summary>
    public static readonly System.Diagnostics.ActivitySource Tracing = new("IotPki.Broker");

    private readonly Meter _meter = new("IotPki.Broker");
    private readonly Counter<long> _refusals;
    private readonly Counter<long> _messagesIn;
    private readonly Counter<long> _messagesOut;
    private readonly Counter<long> _messagesDropped;
    private readonly Counter<long> _closedMidPacket;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _refusalsByReason = new();
    private long _connections;
    private long _connectsTotal;
    private long _in;
    private long _out;
    private long _dropped;
    private long _auditDropped;
    private long _auditHeldBack;
    private long _midPacket;

    public BrokerMetrics()
    {
        _refusals = _meter.CreateCounter<long>("iotpki.broker.refusals");
        _messagesIn = _meter.CreateCounter<long>("iotpki.broker.messages_in");
        _messagesOut = _meter.CreateCounter<long>("iotpki.broker.messages_out");
        _messagesDropped = _meter.CreateCounter<long>("iotpki.broker.messages_dropped");
        _closedMidPacket = _meter.CreateCounter<long>("iotpki.broker.closed_mid_packet",
            description: "Connections the peer closed in the middle of an MQTT packet (a flaky link, or a client probing the broker).");
        _meter.CreateObservableGauge("iotpki.broker.connections", () => Interlocked.Read(ref _connections));
    }

    public long Connections => Interlocked.Read(ref _connections);

    public void Connected() { Interlocked.Increment(ref _connections); Interlocked.Increment(ref _connectsTotal); }
    public void Disconnected() => Interlocked.Decrement(ref _connections);
    public void MessageIn() { Interlocked.Increment(ref _in); _messagesIn.Add(1); }
    public void MessageOut() { Interlocked.Increment(ref _out); _messagesOut.Add(1); }
    /// <summary>A queued message dropped as the oldest of a full queue (a receiver that stalled).</summary>
    public void MessageDropped() { Interlocked.Increment(ref _dropped); _messagesDropped.Add(1); }
    /// <summary>A connection its peer closed in the middle of a packet, ended by the broker at once.</summary>
    public void ClosedMidPacket() { Interlocked.Increment(ref _midPacket); _closedMidPacket.Add(1); }
    public void AuditDropped() => Interlocked.Increment(ref _auditDropped);
    public void AuditHeldBack() => Interlocked.Increment(ref _auditHeldBack);

    public void Refused(string reason)
    {
        _refusalsByReason.AddOrUpdate(reason, 1, (_, n) => n + 1);
        _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public object Snapshot() => new
    {
        connections = Connections,
        connectsTotal = Interlocked.Read(ref _connectsTotal),
        messagesIn = Interlocked.Read(ref _in),
        messagesOut = Interlocked.Read(ref _out),
        messagesDropped = Interlocked.Read(ref _dropped),
        connectionsClosedMidPacket = Interlocked.Read(ref _midPacket),
        refusals = _refusalsByReason.ToDictionary(p => p.Key, p => p.Value),
        auditRowsDropped = Interlocked.Read(ref _auditDropped),
        auditRowsHeldBack = Interlocked.Read(ref _auditHeldBack),
    };

    public void Dispose() => _meter.Dispose();
}
