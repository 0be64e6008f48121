namespace IotPki.Server.Broker;

/// <summary>A token bucket over new MQTT connections: a storm of reconnects is refused early, not queued.</summary>
public sealed class ConnectRateLimiter(int perSecond, int burst, TimeProvider clock)
{
    private readonly object _lock = new();
    private double _tokens = burst;
    private long _last = clock.GetTimestamp();

    public bool TryAcquire()
    {
        lock (_lock)
        {
            var now = clock.GetTimestamp();
            _tokens = Math.Min(burst, _tokens + clock.GetElapsedTime(_last, now).TotalSeconds * perSecond);
            _last = now;
            if (_tokens < 1)
            {
                return false;
            }
            _tokens -= 1;
            return true;
        }
    }
}
