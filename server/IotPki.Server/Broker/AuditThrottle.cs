using System.Collections.Concurrent;

namespace IotPki.Server.Broker;

/// <summary>At most <c>limit</c> audit rows per actor and reason in each window: a client repeating a refused action
/// (a publish loop to a forbidden topic) cannot turn every message into a database row. What is held back is counted
/// and reported on the next row that is written.</summary>
public sealed class AuditThrottle(int limit, TimeSpan window, TimeProvider clock)
{
    private const int MaxTracked = 100_000;
    private readonly ConcurrentDictionary<(string Actor, string Reason), Slot> _slots = new();

    /// <summary>Null when this row is held back; otherwise how many rows like it were held back since the last one written.</summary>
    public long? Admit(string actor, string reason)
    {
        var now = clock.GetUtcNow();
        if (_slots.Count >= MaxTracked)
        {
            _slots.Clear();
        }
        var slot = _slots.GetOrAdd((actor, reason), _ => new Slot { Start = now });
        lock (slot)
        {
            if (now - slot.Start >= window)
            {
                slot.Start = now;
                slot.Written = 0;
            }
            if (slot.Written >= limit)
            {
                slot.HeldBack++;
                return null;
            }
            slot.Written++;
            var heldBack = slot.HeldBack;
            slot.HeldBack = 0;
            return heldBack;
        }
    }

    private sealed class Slot
    {
        public DateTimeOffset Start;
        public int Written;
        public long HeldBack;
    }
}
