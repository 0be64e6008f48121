using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Est;

/// <summary>How many enrollments issue and commit at once, and how many wait their turn. A storm of enrollments (a
/// fleet powered on together, an instance lost and its devices renewing elsewhere) then costs a bounded share of the
/// CPU and of the database's connections; past the queue a device is told to come back (503 with Retry-After, spread
/// so the ones turned away do not come back together).</summary>
public sealed class EnrollmentAdmission : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly int _retryAfterSeconds;

    public EnrollmentAdmission(IOptions<EstOptions> options)
    {
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = options.Value.MaxConcurrentEnrollments,
            QueueLimit = options.Value.EnrollmentQueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _retryAfterSeconds = options.Value.BusyRetryAfterSeconds;
    }

    /// <summary>A lease to run one enrollment; not acquired when the queue is full.</summary>
    public ValueTask<RateLimitLease> EnterAsync(CancellationToken ct) => _limiter.AcquireAsync(1, ct);

    /// <summary>Retry-After for a device turned away: between the configured seconds and twice that.</summary>
    public int RetryAfterSeconds() => _retryAfterSeconds + Random.Shared.Next(_retryAfterSeconds + 1);

    public void Dispose() => _limiter.Dispose();
}
