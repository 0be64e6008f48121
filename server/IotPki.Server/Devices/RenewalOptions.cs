using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Devices;

/// <summary>When the server asks devices to renew, and how fast (section <c>Renewal</c>). A manufacturer's profile may
/// override <see cref="WindowStart"/> and <see cref="AtRisk"/>.</summary>
public sealed class RenewalOptions : IValidatableObject
{
    public const string Section = "Renewal";

    /// <summary>Fraction of a certificate's lifetime at which its renewal window opens.</summary>
    public double WindowStart { get; set; } = 2.0 / 3.0;

    /// <summary>Fraction of the lifetime past which a device that has not renewed is at risk.</summary>
    public double AtRisk { get; set; } = 0.9;

    /// <summary>Fleet-wide ceiling on renew asks per second, well below the broker's connect limit
    /// (<c>Broker:ConnectsPerSecond</c>, 2,000) and the ~100 enrollments/s one 2-core server sustains at p99 &lt; 1 s.</summary>
    [Range(1, 100_000)]
    public int AsksPerSecond { get; set; } = 50;

    /// <summary>How often the planner runs (Hangfire cron, seconds allowed), and so how many asks one pass may send.</summary>
    public string PlannerCron { get; set; } = "* * * * *";

    /// <summary>The interval <see cref="PlannerCron"/> stands for; one pass asks at most AsksPerSecond × this.</summary>
    public TimeSpan PlannerInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An asked device that has not renewed is asked again after this (at most a quarter of its window).</summary>
    public TimeSpan ReaskAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The agent rotates at a random moment within this after an ask (at most a quarter of the time left
    /// before at-risk), so that a batch of asks is not a burst of enrollments.</summary>
    public TimeSpan MaxAskJitter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often each instance counts devices by renewal status for <c>/metrics</c>.</summary>
    public TimeSpan StatusCountsInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (WindowStart is <= 0 or >= 1 || AtRisk <= WindowStart || AtRisk >= 1)
        {
            yield return new ValidationResult("Renewal:WindowStart and Renewal:AtRisk must satisfy 0 < WindowStart < AtRisk < 1.",
                [nameof(WindowStart), nameof(AtRisk)]);
        }
        if (StatusCountsInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return new ValidationResult("Renewal:StatusCountsInterval must be at least 100 ms.", [nameof(StatusCountsInterval)]);
        }
        if (PlannerInterval < TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult("Renewal:PlannerInterval must be at least one second.", [nameof(PlannerInterval)]);
        }
    }
}
