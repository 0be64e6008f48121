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

    /// <summary>A subscriber that was sent nothing for this long, with messages waiting, no longer slows the publishers
    /// whose messages it receives (<see cref="SubscriberBackPressure"/>): its queue drops the oldest instead.</summary>
    public TimeSpan StalledSubscriberAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>New MQTT connections accepted per second (token bucket), and the burst above it.</summary>
    [Range(1, 1_000_000)]
    public int ConnectsPerSecond { get; set; } = 2_000;

    [Range(1, 1_000_000)]
    public int ConnectBurst { get; set; } = 5_000;

    /// <summary>TLS handshakes in progress at once, 0 for no bound; a connection beyond them is closed on accept and
    /// comes back after its backoff. Off by default: a slot is held from the accept, also while the server waits for a
    /// slow client, and in a 5,000-device run sharing 2 cores with its simulator, a bound of 512 (or 128) turned
    /// devices away from servers at 12 % CPU. It bounds a storm of fast clients on a server too small for it.</summary>
    [Range(0, 100_000)]
    public int MaxConcurrentHandshakes { get; set; }
}
