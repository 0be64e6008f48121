using System.Net;
using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace IotPki.Server.Tests.Est;

/// <summary><c>Est:MaxConcurrentEnrollments</c> and <c>Est:EnrollmentQueueLimit</c>: while the enrollments a server runs
/// at once are taken and its queue is full, a device is told to come back (503, Retry-After, a problem body, an audit
/// row with its address), and it enrolls when it does.</summary>
public sealed class EnrollmentAdmissionTests(EnrollmentAdmissionTests.Fixture server) : IClassFixture<EnrollmentAdmissionTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Est:MaxConcurrentEnrollments"] = "1",
            ["Est:EnrollmentQueueLimit"] = "0",
            ["Est:BusyRetryAfterSeconds"] = "7",
        };
    }

    [Fact]
    public async Task A_device_arriving_while_every_turn_is_taken_gets_503_with_Retry_After_and_enrolls_when_it_comes_back()
    {
        await server.RegisterAsync("busy-first", "busy-second");
        using var first = EstClient.Create(server, server.Bootstrap("busy-first"));
        using var second = EstClient.Create(server, server.Bootstrap("busy-second"));
        Task<HttpResponseMessage> firstEnrollment;
        await using (var held = await HoldDeviceRowAsync("busy-first"))
        {
            // The first enrollment takes the one turn and waits on the row lock inside its commit.
            firstEnrollment = EstClient.PostCsrAsync(first, "simpleenroll", TestPki.Csr("busy-first").CsrBase64);
            await WaitForLockWaiterAsync();

            using var turnedAway = await EstClient.PostCsrAsync(second, "simpleenroll", TestPki.Csr("busy-second").CsrBase64);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, turnedAway.StatusCode);
            Assert.Equal("application/problem+json", turnedAway.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await turnedAway.Content.ReadAsStringAsync());
            Assert.Equal("server_busy", problem.RootElement.GetProperty("reason").GetString());
            var retryAfter = turnedAway.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value.TotalSeconds, 7, 14);
            var row = await server.WithDbAsync(db => db.AuditEvents.AsNoTracking()
                .SingleAsync(a => a.Action == "enrollment.refused" && a.DeviceId == DeviceId.Parse("busy-second")));
            Assert.StartsWith("simpleenroll: server_busy:", row.Detail);
            Assert.Equal("127.0.0.1", row.SourceAddress);
            Assert.False(firstEnrollment.IsCompleted);
        }

        using (var firstAnswer = await firstEnrollment)
        {
            Assert.Equal(HttpStatusCode.OK, firstAnswer.StatusCode);
        }
        using var cameBack = await EstClient.PostCsrAsync(second, "simpleenroll", TestPki.Csr("busy-second").CsrBase64);
        Assert.Equal(HttpStatusCode.OK, cameBack.StatusCode);
    }

    /// <summary>A connection whose open transaction holds the device's row lock until it is disposed (rolled back).</summary>
    private async Task<NpgsqlConnection> HoldDeviceRowAsync(string deviceId)
    {
        var connection = new NpgsqlConnection(server.Database.ConnectionString);
        await connection.OpenAsync();
        await using (var begin = new NpgsqlCommand("BEGIN", connection))
        {
            await begin.ExecuteNonQueryAsync();
        }
        await using var select = new NpgsqlCommand("SELECT 1 FROM devices WHERE \"Id\" = $1 FOR UPDATE", connection)
        {
            Parameters = { new NpgsqlParameter { Value = deviceId } },
        };
        Assert.Equal(1, await select.ExecuteScalarAsync());
        return connection;
    }

    private async Task WaitForLockWaiterAsync()
    {
        for (var i = 0; i < 400; i++)
        {
            if (await server.Database.ScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("the first enrollment never reached its commit");
    }
}
