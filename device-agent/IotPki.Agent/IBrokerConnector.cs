namespace IotPki.Agent;

/// <summary>Opens the device's session with the broker. A successful connect is what proves a new identity.</summary>
public interface IBrokerConnector
{
    /// <exception cref="BrokerRefusedException">The broker refused this identity (not a network fault).</exception>
    Task<IBrokerSession> ConnectAsync(DeviceIdentity identity, CancellationToken ct);
}

/// <summary>A live broker session: completes <see cref="RenewRequested"/> when the server publishes on
/// <c>devices/&lt;id&gt;/commands/renew</c> and <see cref="Closed"/> when the connection drops.</summary>
public interface IBrokerSession : IAsyncDisposable
{
    Task<RenewAsk> RenewRequested { get; }
    Task Closed { get; }

    /// <summary>Publishes a reading on <c>devices/&lt;id&gt;/telemetry</c> (QoS 0).</summary>
    Task PublishTelemetryAsync(ReadOnlyMemory<byte> payload, CancellationToken ct);
}

/// <summary>The broker refused the identity (bad certificate, revoked, not authorized).</summary>
public sealed class BrokerRefusedException(string reason) : Exception($"The broker refused the connection: {reason}")
{
    public string Reason { get; } = reason;
}

/// <summary>The broker closed the connection after the TLS handshake and before its CONNACK: a refusal (how our broker's
/// reaches MQTTnet) or a connection lost on the way. Not a refusal of a new identity, which the broker may have accepted;
/// for the identity in use, a reason to ask EST at once where it stands.</summary>
public sealed class BrokerClosedBeforeConnAckException(string message, Exception inner) : IOException(message, inner);
