using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Renewal;

/// <summary>Re-keying a whole population (after a key-compromise scare or a profile change) through the planner:
/// started by an operator, its progress read from the devices it holds.</summary>
public sealed class RenewalCampaigns(IotPkiDbContext db, DeviceLifecycle lifecycle)
{
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromDays(1);

    public Task<RenewalCampaign> StartAsync(CampaignRequest request, string actor, string? source, CancellationToken ct) =>
        lifecycle.StartCampaignAsync(request.Manufacturer, request.IssuedBefore, request.Within ?? DefaultWithin,
            request.Population, actor, source, ct);

    public async Task<CampaignView?> ProgressAsync(long id, CancellationToken ct)
    {
        var campaign = await db.RenewalCampaigns.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
        if (campaign is null)
        {
            return null;
        }
        var rows = db.Renewals.AsNoTracking().Where(r => r.CampaignId == id);
        var renewed = await rows.CountAsync(r => r.RenewedAt >= campaign.CreatedAt, ct);
        var asked = await rows.CountAsync(r => r.AskCount > 0 || r.RenewedAt >= campaign.CreatedAt, ct);
        var atRisk = await rows.CountAsync(r => r.Status == RenewalStatus.AtRisk || r.Status == RenewalStatus.Expired, ct);
        return new CampaignView(campaign.Id, campaign.Population, campaign.CreatedAt, campaign.Within, campaign.Actor,
            campaign.Devices, asked, renewed, atRisk, renewed == campaign.Devices);
    }
}

/// <summary>Who to re-key: a manufacturer's devices, certificates issued before a date, or all (<see cref="All"/>),
/// their asks spread over <see cref="Within"/> (default a day).</summary>
public sealed record CampaignRequest(string? Manufacturer, DateTimeOffset? IssuedBefore, bool All, TimeSpan? Within)
{
    public string? Problem =>
        (Manufacturer is null && IssuedBefore is null && !All) ? "Name the population: manufacturer, issuedBefore, or all."
        : All && (Manufacturer is not null || IssuedBefore is not null) ? "all cannot be combined with manufacturer or issuedBefore."
        : Within is { } w && (w <= TimeSpan.Zero || w > TimeSpan.FromDays(365)) ? "within must be between 1 second and 365 days."
        : Manufacturer is { Length: > 64 } ? "manufacturer is at most 64 characters."
        : null;

    public string Population =>
        All ? "all" : string.Join(", ", new[] { Manufacturer is null ? null : $"manufacturer={Manufacturer}",
            IssuedBefore is null ? null : $"issued-before={IssuedBefore:u}" }.OfType<string>());
}

public sealed record CampaignView(long Id, string Population, DateTimeOffset StartedAt, TimeSpan Within, string StartedBy,
    int Devices, int Asked, int Renewed, int AtRiskOrExpired, bool Done);
