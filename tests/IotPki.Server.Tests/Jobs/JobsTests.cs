using System.Net;
using Hangfire;
using Hangfire.Storage;
using IotPki.Server.Jobs;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Jobs;

public sealed class JobsTests(JobsTests.Fixture server) : IClassFixture<JobsTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Jobs:Enabled"] = "true" };
    }

    [Fact]
    public async Task The_expiry_sweep_is_a_recurring_job_and_marks_expired_certificates()
    {
        await server.RegisterAsync("sweep-01", "sweep-02");
        foreach (var id in new[] { "sweep-01", "sweep-02" })
        {
            using var boot = server.Bootstrap(id);
            using var est = EstClient.Create(server, boot);
            using var response = await EstClient.PostCsrAsync(est, "simpleenroll", TestPki.Csr(id).CsrBase64);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await server.Database.ExecuteAsync("UPDATE certificates SET \"NotAfter\" = now() - interval '1 minute' WHERE \"DeviceId\" = 'sweep-01'");

        using var connection = server.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.Contains(connection.GetRecurringJobs(), j => j.Id == ExpirySweep.RecurringJobId);
        await using var scope = server.Services.CreateAsyncScope();
        var swept = await scope.ServiceProvider.GetRequiredService<ExpirySweep>().RunAsync(CancellationToken.None);
        var again = await scope.ServiceProvider.GetRequiredService<ExpirySweep>().RunAsync(CancellationToken.None);

        Assert.Equal(1, swept);
        Assert.Equal(0, again);
        Assert.Equal("expired", await server.Database.ScalarAsync<string>("SELECT \"Status\" FROM certificates WHERE \"DeviceId\" = 'sweep-01'"));
        Assert.Equal("valid", await server.Database.ScalarAsync<string>("SELECT \"Status\" FROM certificates WHERE \"DeviceId\" = 'sweep-02'"));
    }

    [Fact]
    public async Task The_dashboard_is_for_operators_only()
    {
        using var admin = await OperatorClient.IssueAsync(server, "jobs-admin", OperatorRole.Admin);
        using var anonymous = OperatorClient.Create(server, null);
        using var asAdmin = OperatorClient.Create(server, admin);
        using var onEstPort = EstClient.Create(server, admin);

        using var refused = await anonymous.GetAsync("/hangfire");
        using var shown = await asAdmin.GetAsync("/hangfire/recurring");
        using var hidden = await onEstPort.GetAsync("/hangfire");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        Assert.Contains(ExpirySweep.RecurringJobId, await shown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }
}
