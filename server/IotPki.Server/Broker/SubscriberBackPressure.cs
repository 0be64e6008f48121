using System.Collections.Concurrent;

namespace IotPki.Server.Broker;

/// <summary>Slows a publisher instead of dropping what it sent: when a receiver of its message has half its queue
/// (<see cref="BrokerOptions.MaxPendingMessagesPerClient"/>) waiting, the publisher's message waits before it is queued
/// there, until that queue is down to a quarter. MQTTnet dispatches a publish inside the publisher's read loop, so while
/// it waits the broker reads nothing more from that publisher and TCP slows it down.
/// A receiver that sent nothing for <see cref="BrokerOptions.StalledSubscriberAfter"/> (gone without a word, or reading
/// nothing) holds no publisher back: its queue drops the oldest, as before, until its keep-alive ends it.</summary>
public sealed partial class SubscriberBackPressure(int maxPendingPerClient, TimeSpan stalledAfter, TimeProvider clock, ILogger<SubscriberBackPressure> logger)
{
    private readonly int _high = Math.Max(1, maxPendingPerClient / 2);
    private readonly int _low = Math.Max(0, maxPendingPerClient / 4);
    private readonly ConcurrentDictionary<string, Receiver> _receivers = new(StringComparer.Ordinal);

    private sealed class Receiver
    {
        public int Pending;
        public long LastSentTimestamp;
        public TaskCompletionSource? Drained;
        public int StallReported;
    }

    private long _waits;

    /// <summary>Publishes that waited for a receiver's queue, since the start.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Completes when <paramref name="receiverClientId"/> has room for one more message, or has stalled.</summary>
    public Task WaitForRoomAsync(string receiverClientId, CancellationToken ct)
    {
        if (!_receivers.TryGetValue(receiverClientId, out var receiver) || Volatile.Read(ref receiver.Pending) < _high)
        {
            return Task.CompletedTask;
        }
        return WaitAsync(receiverClientId, receiver, ct);
    }

    private async Task WaitAsync(string receiverClientId, Receiver receiver, CancellationToken ct)
    {
        Interlocked.Increment(ref _waits);
        while (Volatile.Read(ref receiver.Pending) >= _high)
        {
            var sinceSent = clock.GetElapsedTime(Interlocked.Read(ref receiver.LastSentTimestamp));
            if (sinceSent >= stalledAfter)
            {
                if (Interlocked.Exchange(ref receiver.StallReported, 1) == 0)
                {
                    LogStalled(logger, receiverClientId, sinceSent.TotalSeconds, Volatile.Read(ref receiver.Pending));
                }
                return;
            }
            Task drained;
            lock (receiver)
            {
                receiver.Drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                drained = receiver.Drained.Task;
            }
            if (Volatile.Read(ref receiver.Pending) < _high)
            {
                return; // drained between the check and the registration
            }
            try
            {
                await drained.WaitAsync(stalledAfter - sinceSent, clock, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Nothing drained meanwhile: look again whether the receiver has stalled.
            }
        }
    }

    /// <summary>A message was queued for the receiver.</summary>
    public void Queued(string receiverClientId)
    {
        var receiver = _receivers.GetOrAdd(receiverClientId, static _ => new Receiver());
        if (Interlocked.Increment(ref receiver.Pending) == 1)
        {
            // A receiver that starts to be sent something counts as live from now.
            Interlocked.Exchange(ref receiver.LastSentTimestamp, clock.GetTimestamp());
        }
    }

    /// <summary>A queued message left the queue: written to the receiver, or dropped as the oldest.</summary>
    public void Left(string receiverClientId, bool written)
    {
        // MQTTnet reports a message queued only after queuing it, so its send loop may write it first: the count then
        // goes to -1 and back to 0, and the first message of a receiver must find its entry here too.
        var receiver = _receivers.GetOrAdd(receiverClientId, static _ => new Receiver());
        if (written)
        {
            Interlocked.Exchange(ref receiver.LastSentTimestamp, clock.GetTimestamp());
            Volatile.Write(ref receiver.StallReported, 0);
        }
        if (Interlocked.Decrement(ref receiver.Pending) <= _low && receiver.Drained is not null)
        {
            Release(receiver);
        }
    }

    /// <summary>The receiver's connection ended: its queue is gone, and whoever waited for it goes on.</summary>
    public void Gone(string clientId)
    {
        if (_receivers.TryRemove(clientId, out var receiver))
        {
            Release(receiver);
        }
    }

    private static void Release(Receiver receiver)
    {
        TaskCompletionSource? drained;
        lock (receiver)
        {
            drained = receiver.Drained;
            receiver.Drained = null;
        }
        drained?.TrySetResult();
    }

    [LoggerMessage(LogLevel.Warning, "Subscriber {ClientId} was sent nothing for {Seconds:0.0} s with {Pending} messages waiting: it no longer slows its publishers, and its queue drops the oldest")]
    private static partial void LogStalled(ILogger logger, string clientId, double seconds, int pending);
}
