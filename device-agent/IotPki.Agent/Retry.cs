namespace IotPki.Agent;

/// <summary>The agent's one retry loop: runs an attempt until it succeeds; after each failure the caller's judge
/// logs it and says how long to wait (a step of the <see cref="Backoff"/>, or what the server asked), or null to let
/// the failure through.</summary>
public static class Retry
{
    public static async Task<T> UntilDoneAsync<T>(Func<Task<T>> attempt, Func<Exception, Backoff, TimeSpan?> judge, Backoff backoff,
        TimeProvider clock, CancellationToken ct)
    {
        while (true)
        {
            TimeSpan wait;
            try
            {
                return await attempt().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                if (judge(e, backoff) is not { } next)
                {
                    throw;
                }
                wait = next;
            }
            await Task.Delay(wait, clock, ct).ConfigureAwait(false);
        }
    }
}
