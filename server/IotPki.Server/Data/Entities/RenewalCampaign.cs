namespace IotPki.Server.Data.Entities;

/// <summary>An operator's re-keying of a population (a manufacturer, certificates issued before a date, or all),
/// spread over <see cref="Within"/> through the same planner and rate limit as scheduled renewals.</summary>
public sealed class RenewalCampaign
{
    public long Id { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string Actor { get; set; }
    /// <summary>The population, as the operator gave it (<c>manufacturer=acme</c>, <c>issued-before=…</c>, <c>all</c>).</summary>
    public required string Population { get; set; }
    public TimeSpan Within { get; set; }
    public int Devices { get; set; }
}
