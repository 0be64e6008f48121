namespace IotPki.Server.Broker;

/// <summary>A bound on the TLS handshakes in progress (<see cref="BrokerOptions.MaxConcurrentHandshakes"/>): the admitted
/// ones share the CPU, the rest are turned away for the price of an accept and come back after their backoff.</summary>
public sealed class HandshakeSlots(int limit)
{
    private int _taken;

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
