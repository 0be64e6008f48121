using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Operators;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Renewal;

/// <summary><c>/api/v1/renewals</c>: how the fleet stands (devices by renewal status), and campaigns.</summary>
public static class RenewalEndpoints
{
    public static RouteGroupBuilder MapRenewalApi(this RouteGroupBuilder api)
    {
        var renewals = api.MapGroup("/renewals").WithTags("Renewals");
        renewals.MapGet("/", Summary).RequireAuthorization(OperatorRole.CanRead);
        renewals.MapPost("/campaigns", StartCampaign).RequireAuthorization(OperatorRole.CanChange);
        renewals.MapGet("/campaigns/{id:long}", Campaign).RequireAuthorization(OperatorRole.CanRead);
        return api;
    }

    /// <summary>Active devices by renewal status: every status named, zero where none.</summary>
    private static async Task<Ok<Dictionary<string, int>>> Summary(IotPkiDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await RenewalStatusCounts.ReadAsync(db, ct));

    private static async Task<Results<Accepted<CampaignView>, ProblemHttpResult>> StartCampaign(
        CampaignRequest request, HttpContext http, RenewalCampaigns campaigns, CancellationToken ct)
    {
        if (request.Problem is { } problem)
        {
            return TypedResults.Problem(new ProblemDetails { Status = 400, Title = "Bad request", Detail = problem, Extensions = { ["reason"] = "bad_campaign" } });
        }
        var campaign = await campaigns.StartAsync(request, CallerIdentity.Actor(http.User), http.Connection.RemoteIpAddress?.ToString(), ct);
        var view = await campaigns.ProgressAsync(campaign.Id, ct);
        return TypedResults.Accepted($"/api/v1/renewals/campaigns/{campaign.Id}", view);
    }

    private static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> Campaign(long id, RenewalCampaigns campaigns, CancellationToken ct) =>
        await campaigns.ProgressAsync(id, ct) is { } view
            ? TypedResults.Ok(view)
            : TypedResults.Problem(new ProblemDetails { Status = 404, Title = "Unknown campaign", Detail = $"No renewal campaign {id}.", Extensions = { ["reason"] = "unknown_campaign" } });
}
