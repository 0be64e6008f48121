namespace IotPki.Agent;

/// <summary>A service reachable at several addresses (server instances on one database): the first is used until it
/// cannot be reached, then the next, round and round. One device sticks to one instance while it answers.</summary>
public sealed class Endpoints
{
    private readonly Uri[] _all;
    private int _current;

    public Endpoints(Uri primary, IEnumerable<Uri>? fallbacks = null)
    {
        _all = [primary, .. fallbacks ?? []];
    }

    public Uri Current => _all[Volatile.Read(ref _current) % _all.Length];

    public int Count => _all.Length;

    /// <summary>After <paramref name="failed"/> could not be reached: the address to try next (the same one when
    /// there is no other, or when another caller has moved on already).</summary>
    public Uri Next(Uri failed)
    {
        var seen = Volatile.Read(ref _current);
        if (_all[seen % _all.Length] == failed)
        {
            Interlocked.CompareExchange(ref _current, (seen + 1) % _all.Length, seen);
        }
        return Current;
    }
}
