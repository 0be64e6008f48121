namespace IotPki.Server.Broker;

/// <summary>A bound on the TLS handshakes in progress. Unbounded, a reconnect storm shares the CPU among every
/// handshake at once, all of them outlast the clients' timeouts and nobody gets in; bounded, the admitted ones finish
/// quickly and the rest are turned away for the price of an accept, to come back after their backoff.</summary>
public sealed class HandshakeSlots(int limit)
{
    private int _taken;

    public int InProgress => Volatile.Read(ref _taken);

    /// <summary>A slot, or null when <paramref name="limit"/> handshakes are in progress.</summary>
    public Slot? TryTake()
    {
        if (Interlocked.Increment(ref _taken) <= limit)
        {
            return new Slot(this);
        }
        Interlocked.Decrement(ref _taken);
        return null;
    }

    /// <summary>Given back once: when the handshake is done, or when the connection ends before that.</summary>
    public sealed class Slot(HandshakeSlots owner)
    {
        private int _released;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref owner._taken);
            }
        }
    }
}
