using Hangfire;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Renewal;

/// <summary>Fleet renewal on Hangfire: the recurring planner, its ask batches, campaigns and the operator routes.</summary>
public static class RenewalFeature
{
    public static IServiceCollection AddRenewal(this IServiceCollection services)
    {
        services.AddScoped<RenewalPlanner>();
        services.AddScoped<RenewalAskBatch>();
        services.AddScoped<RenewalCampaigns>();
        services.AddHostedService<RenewalStatusCounts>();
        return services;
    }

    /// <summary>Registers the planner with its stable id; called once the database is migrated.</summary>
    public static void ScheduleRecurringJobs(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<Devices.RenewalOptions>>().Value;
        services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<RenewalPlanner>(
            RenewalPlanner.RecurringJobId, planner => planner.RunAsync(CancellationToken.None), options.PlannerCron);
    }
}
