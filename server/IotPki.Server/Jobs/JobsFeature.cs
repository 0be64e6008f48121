using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using IotPki.Server.Data;
using IotPki.Server.Operators;

namespace IotPki.Server.Jobs;

/// <summary>Hangfire on PostgreSQL: recurring sweeps (never a job per certificate), and the dashboard at
/// <c>/hangfire</c> on the operator listener.</summary>
public static class JobsFeature
{
    public const string DashboardPath = "/hangfire";

    public static WebApplicationBuilder AddJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var connectionString = DatabaseConnection.Resolve(builder.Configuration);
        // This host's storage, from DI: Hangfire's static JobStorage.Current is never set, so hosts in one process
        // (the tests run many) never share or outlive each other's storage.
        builder.Services.AddSingleton<JobStorage>(_ =>
        {
            var storageOptions = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                QueuePollInterval = TimeSpan.FromSeconds(5),
            };
            return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
        });
        builder.Services.AddHangfire((services, c) => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new AppScopedLogProvider(services.GetRequiredService<ILoggerFactory>())));
        JobOutcomeMetrics.RegisterOnce();
        var options = builder.Configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        if (options.Enabled)
        {
            builder.Services.AddHangfireServer(s => s.WorkerCount = options.WorkerCount);
        }
        builder.Services.AddScoped<ExpirySweep>();
        return builder;
    }

    public static WebApplication MapJobs(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Path.StartsWithSegments(DashboardPath), branch => branch.Use(async (http, next) =>
        {
            if (await OperatorReaderGate.RefusedAsync(http))
            {
                return;
            }
            await next(http);
        }));
        app.UseHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [new OperatorDashboardAuthorization()],
            IsReadOnlyFunc = context => !context.GetHttpContext().User.IsInRole(OperatorRole.Admin),
            DashboardTitle = "IotPki jobs",
            DisplayStorageConnectionString = false,
        }, app.Services.GetRequiredService<JobStorage>());
        return app;
    }

    /// <summary>Registers the recurring sweeps; called once the database is migrated.</summary>
    public static void ScheduleRecurringJobs(IServiceProvider services)
    {
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>().Value;
        services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<ExpirySweep>(
            ExpirySweep.RecurringJobId, sweep => sweep.RunAsync(CancellationToken.None), options.ExpirySweepCron);
    }
}
