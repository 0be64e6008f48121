namespace IotPki.Agent;

/// <summary>Exponential backoff with full jitter: attempt n waits a random time in [d/2, d], d = min(max, initial * 2^n).</summary>
public sealed class Backoff(TimeSpan initial, TimeSpan max)
{
    private int _attempt;

    public int Attempt => _attempt;

    public TimeSpan Next()
    {
        var exponent = Math.Min(_attempt++, 30);
        var ceiling = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    public void Reset() => _attempt = 0;
}
