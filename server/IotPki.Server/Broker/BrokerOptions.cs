using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Broker;

public sealed class BrokerOptions
{
    public const string Section = "Broker";

    /// <summary>MQTT over TLS port (0 picks a free port).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8883;

    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest MQTT packet (fixed header included) read from a client; a larger one closes the connection
    /// before it is buffered.</summary>
    [Range(64, 256 * 1024 * 1024)]
    public int MaxPacketBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest accepted application message payload.</summary>
    [Range(1, 16 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>Audit rows of refusals per client identity and reason per minute; the rest are counted on the next row.</summary>
    [Range(1, 1_000_000)]
    public int AuditRowsPerMinute { get; set; } = 20;

    [Range(1, 1_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>Messages queued for one client before the oldest are dropped (its in-flight bound).</summary>
    [Range(1, 100_000)]
    public int MaxPendingMessagesPerClient { get; set; } = 1_000;

    /// <summary>New MQTT connections accepted per second (token bucket), and the burst above it.</summary>
    [Range(1, 1_000_000)]
    public int ConnectsPerSecond { get; set; } = 2_000;

    [Range(1, 1_000_000)]
    public int ConnectBurst { get; set; } = 5_000;

    /// <summary>TLS handshakes in progress at once; a connection beyond them is closed on accept and comes back after
    /// its backoff. A handshake costs the server about 4 ms of CPU: 512 of them are 2 s of one core, well inside a
    /// client's connect timeout (15 s for the agent). A slow client holds its slot while the server waits for it, so
    /// a much lower bound turns devices away from an idle server (128 did, in a 10,000-device run on 2 cores).</summary>
    [Range(1, 100_000)]
    public int MaxConcurrentHandshakes { get; set; } = 512;
}
