namespace IotPki.FirmwareSim;

/// <summary>Items 0..count-1 taken in order by a fixed number of concurrent workers, as a fleet of devices that each
/// do one thing: how many failed, and the first failure's words.</summary>
public static class WorkQueue
{
    /// <summary><paramref name="work"/> returns null on success, or what went wrong.</summary>
    public static async Task<(int Failures, string? FirstError)> RunAsync(int count, int concurrency, Func<int, Task<string?>> work, CancellationToken ct)
    {
        var next = -1;
        var failures = 0;
        string? firstError = null;

        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (await work(i) is { } error)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, error, null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(Worker, ct)));
        return (failures, firstError);
    }
}
