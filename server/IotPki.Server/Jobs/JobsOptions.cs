using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Jobs;

public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>Run a Hangfire server in this instance (instances on one database share the work).</summary>
    public bool Enabled { get; set; } = true;

    [Range(1, 64)]
    public int WorkerCount { get; set; } = 2;

    /// <summary>Cron of the expiry sweep.</summary>
    [Required]
    public string ExpirySweepCron { get; set; } = "*/15 * * * *";
}
