using System.Diagnostics;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using IotPki.Identity;
using IotPki.Server.Data;
using IotPki.Server.Devices;
using IotPki.Server.Hosting;
using IotPki.Server.Renewal;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace IotPki.FirmwareSim;

/// <summary>The renewal planner over a fleet of certificate records in PostgreSQL (no devices attached): a simulated day
/// of passes on a clock the benchmark moves, the server's own planner, lifecycle and Hangfire batch jobs, against the
/// naive design (one scheduled Hangfire job per certificate) on the same data.</summary>
public sealed class RenewalPlanBenchmark(string connectionString, int devices, TimeSpan spread, TimeSpan lifetime)
{
    private const string NaiveSchema = "hangfire_naive";

    public sealed record PlannerResult(int Passes, long Asked, long Renewed, long AtRisk, long Expired, int BatchJobs,
        double PassP50Ms, double PassP99Ms, double PassMaxMs, double BatchMeanMs, long RowsRead, long HangfireJobs, long HangfireBytes,
        long AuditRows, long BacklogAsks, long BacklogRowsRead, double SteadyPassP50Ms, double SteadyPassP99Ms);

    /// <summary>The first passes, where the seeded fleet's overdue devices are worked off at the rate limit; the rest of
    /// the day is the steady state.</summary>
    public static readonly TimeSpan Backlog = TimeSpan.FromHours(2);

    public sealed record NaiveResult(int Jobs, double Seconds, long HangfireBytes, long RowsPerJob);

    /// <summary>Writes <see cref="devices"/> active, online devices with certificates whose notAfter spreads evenly over
    /// <see cref="spread"/> from <paramref name="start"/>, and their renewal rows as the server computes them.</summary>
    public async Task SeedAsync(IServiceProvider services, DateTimeOffset start, CancellationToken ct)
    {
        await using (var scope = services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IotPkiDbContext>().Database.MigrateAsync(ct);
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await Exec(connection, """
            INSERT INTO manufacturers ("Name", "CaCertificatePem", "CaThumbprint", "CaKeyId", "DeviceIdField", "UnregisteredPolicy", "CreatedAt", "RequireProofOfPossession")
            VALUES ('bench', '', 'bench', 'bench', 'cn', 'refuse', now(), false)
            """, ct);
        var manufacturerId = (int)(await Scalar(connection, "SELECT \"Id\" FROM manufacturers WHERE \"Name\" = 'bench'", ct))!;
        var options = new RenewalOptions();
        var instance = Guid.NewGuid();
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY devices (\"Id\", \"ManufacturerId\", \"State\", \"RegisteredAt\", \"EnrolledAt\", \"LastSeenAt\", \"Online\", \"InstanceId\", \"ReprovisionAllowed\") FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var i = 0; i < devices; i++)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(Id(i), NpgsqlDbType.Varchar, ct);
                await writer.WriteAsync(manufacturerId, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync("active", NpgsqlDbType.Varchar, ct);
                await writer.WriteAsync(start.AddDays(-60), NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(start.AddDays(-60), NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(start, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(true, NpgsqlDbType.Boolean, ct);
                await writer.WriteAsync(instance, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(false, NpgsqlDbType.Boolean, ct);
            }
            await writer.CompleteAsync(ct);
        }
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY device_renewals (\"DeviceId\", \"CertificateSerial\", \"NotBefore\", \"NotAfter\", \"WindowOpensAt\", \"SlotAt\", \"AtRiskAt\", \"AskCount\", \"Status\") FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var i = 0; i < devices; i++)
            {
                var id = Id(i);
                var serial = Serial(i, 0);
                var notAfter = start + spread * ((i + 0.5) / devices);
                var notBefore = notAfter - lifetime;
                var window = RenewalWindow.For(DeviceId.Parse(id), serial, notBefore, notAfter, options.WindowStart, options.AtRisk);
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(id, NpgsqlDbType.Varchar, ct);
                await writer.WriteAsync(serial, NpgsqlDbType.Varchar, ct);
                await writer.WriteAsync(notBefore, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(notAfter, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(window.OpensAt, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(window.SlotAt, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(window.AtRiskAt, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(0, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync("scheduled", NpgsqlDbType.Varchar, ct);
            }
            await writer.CompleteAsync(ct);
        }
        await Exec(connection, """
            INSERT INTO certificates ("Serial", "DeviceId", "Kind", "Subject", "Thumbprint", "NotBefore", "NotAfter", "Status", "IssuedAt", "Pem")
            SELECT "CertificateSerial", "DeviceId", 'operational', 'CN=' || "DeviceId", md5("CertificateSerial"), "NotBefore", "NotAfter", 'valid', "NotBefore", ''
            FROM device_renewals
            """, ct);
        foreach (var table in new[] { "devices", "device_renewals", "certificates" })
        {
            await Exec(connection, $"VACUUM ANALYZE {table}", ct);
        }
    }

    /// <summary>Passes every <paramref name="interval"/> of simulated time for <paramref name="duration"/>. After each
    /// pass the batch jobs it enqueued run on a Hangfire server, and every device asked renews (a new certificate row
    /// and renewal cycle, as <c>IssuedAsync</c> would leave them), so the next passes see a living fleet.</summary>
    public async Task<PlannerResult> RunPlannerAsync(IServiceProvider services, BenchClock clock, TimeSpan duration, TimeSpan interval, CancellationToken ct)
    {
        var storage = services.GetRequiredService<JobStorage>();
        _ = services.GetRequiredService<IBackgroundJobClient>();  // applies the host's Hangfire configuration
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            WorkerCount = 2,
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            Activator = new AspNetCoreJobActivator(services.GetRequiredService<IServiceScopeFactory>()),
        }, storage);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var readBefore = await RowsReadAsync(connection, ct);
        var passMs = new List<double>();
        var batchMs = new List<double>();
        long asked = 0, renewed = 0, atRisk = 0, expired = 0;
        var batchJobs = 0;
        var monitor = storage.GetMonitoringApi();
        var finished = Finished(monitor);
        var end = clock.GetUtcNow() + duration;
        var backlogEnd = clock.GetUtcNow() + Backlog;
        long backlogAsks = -1, backlogRows = -1;
        var passes = 0;
        while (clock.GetUtcNow() < end)
        {
            if (backlogAsks < 0 && clock.GetUtcNow() >= backlogEnd)
            {
                (backlogAsks, backlogRows) = (asked, await RowsReadAsync(connection, ct) - readBefore);
            }
            var watch = Stopwatch.StartNew();
            RenewalPlanner.Pass pass;
            await using (var scope = services.CreateAsyncScope())
            {
                pass = await scope.ServiceProvider.GetRequiredService<RenewalPlanner>().RunAsync(ct);
            }
            passMs.Add(watch.Elapsed.TotalMilliseconds);
            if (pass.Batches > 0)
            {
                // Until every batch of this pass has finished (not merely left the queue: a fetched job is briefly
                // neither enqueued nor processing), so its asks are stamped with this pass's time.
                var drain = Stopwatch.StartNew();
                while (Finished(monitor) < finished + pass.Batches)
                {
                    await Task.Delay(20, ct);
                }
                finished += pass.Batches;
                batchMs.Add(drain.Elapsed.TotalMilliseconds / pass.Batches);
                batchJobs += pass.Batches;
            }
            atRisk += pass.AtRisk;
            expired += pass.Expired;
            var now = clock.GetUtcNow();
            var askedNow = await AskedAtAsync(connection, now, ct);
            asked += askedNow.Count;
            renewed += await RenewAsync(connection, askedNow, now, ct);
            passes++;
            clock.Advance(interval);
        }
        var rowsRead = await RowsReadAsync(connection, ct) - readBefore;
        var jobs = (long)(await Scalar(connection, "SELECT count(*) FROM hangfire.job", ct))!;
        var bytes = await SchemaBytesAsync(connection, "hangfire", ct);
        var audit = (long)(await Scalar(connection, "SELECT count(*) FROM audit_events WHERE \"Actor\" = 'service:renewal-planner'", ct))!;
        var (p50, p99, max) = Percentiles.Summary(passMs);
        var backlogPasses = (int)(Backlog / interval);
        var (steadyP50, steadyP99, _) = Percentiles.Summary(passMs.Skip(backlogPasses).ToList());
        return new PlannerResult(passes, asked, renewed, atRisk, expired, batchJobs, p50, p99, max,
            batchMs.Count == 0 ? 0 : batchMs.Average(), rowsRead, jobs, bytes, audit, Math.Max(0, backlogAsks), Math.Max(0, backlogRows),
            steadyP50, steadyP99);
    }

    private static long Finished(Hangfire.Storage.IMonitoringApi monitor)
    {
        var statistics = monitor.GetStatistics();
        return statistics.Succeeded + statistics.Failed;
    }

    /// <summary>The naive design on the same certificates: one Hangfire job per certificate, scheduled at its slot, in a
    /// storage of its own.</summary>
    public async Task<NaiveResult> RunNaiveAsync(int jobs, CancellationToken ct)
    {
        var options = new PostgreSqlStorageOptions { SchemaName = NaiveSchema, PrepareSchemaIfNecessary = true };
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, options), options);
        var client = new BackgroundJobClient(storage);
        var slots = new List<(string Id, DateTimeOffset Slot)>(jobs);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand($"SELECT \"DeviceId\", \"SlotAt\" FROM device_renewals ORDER BY \"DeviceId\" LIMIT {jobs}", connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                slots.Add((reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(slots, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, (slot, _) =>
        {
            client.Schedule<NaiveRenewalAsk>(a => a.AskAsync(slot.Id), slot.Slot);
            return ValueTask.CompletedTask;
        });
        var seconds = watch.Elapsed.TotalSeconds;
        await using var stats = new NpgsqlConnection(connectionString);
        await stats.OpenAsync(ct);
        var bytes = await SchemaBytesAsync(stats, NaiveSchema, ct);
        var rows = (long)(await Scalar(stats, $"""
            SELECT (SELECT count(*) FROM {NaiveSchema}.job) + (SELECT count(*) FROM {NaiveSchema}.state)
                 + (SELECT count(*) FROM {NaiveSchema}.jobparameter) + (SELECT count(*) FROM {NaiveSchema}.set)
            """, ct))!;
        return new NaiveResult(slots.Count, seconds, bytes, slots.Count == 0 ? 0 : rows / slots.Count);
    }

    /// <summary>The job the naive design schedules per certificate (never run here: its cost is its storage).</summary>
    public sealed class NaiveRenewalAsk
    {
        public Task AskAsync(string deviceId) => Task.CompletedTask;
    }

    public static string Id(int i) => $"bench-{i:D7}";

    private static string Serial(int i, int generation) => $"{generation:x8}{i:x8}{Random.Shared.NextInt64():x16}";

    /// <summary>The devices asked at <paramref name="now"/>, from their audit rows (so the simulation reads nothing of the
    /// planner's tables and the rows-read figure is the planner's).</summary>
    private static async Task<List<string>> AskedAtAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken ct)
    {
        var ids = new List<string>();
        await using var command = new NpgsqlCommand("SELECT \"DeviceId\" FROM audit_events WHERE \"At\" = @now AND \"Action\" = 'renewal.asked'", connection);
        command.Parameters.AddWithValue("now", now);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    /// <summary>What a device's renewal leaves in the database: a new certificate from now, the old one superseded, a
    /// new renewal cycle with its own slot (the server's <see cref="RenewalWindow"/>). The renewal row is read once, by
    /// its key, as <c>IssuedAsync</c> reads it: that one row per renewal is in the rows-read figure.</summary>
    private async Task<long> RenewAsync(NpgsqlConnection connection, List<string> ids, DateTimeOffset now, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return 0;
        }
        var options = new RenewalOptions();
        var serials = new string[ids.Count];
        var opens = new DateTimeOffset[ids.Count];
        var slots = new DateTimeOffset[ids.Count];
        var risks = new DateTimeOffset[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            serials[i] = Serial(i, 1 + (int)(now.ToUnixTimeSeconds() % 1_000_000));
            var window = RenewalWindow.For(DeviceId.Parse(ids[i]), serials[i], now, now + lifetime, options.WindowStart, options.AtRisk);
            (opens[i], slots[i], risks[i]) = (window.OpensAt, window.SlotAt, window.AtRiskAt);
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand("""
            UPDATE certificates SET "Status" = 'superseded' WHERE "DeviceId" = ANY(@ids) AND "Status" = 'valid';
            INSERT INTO certificates ("Serial", "DeviceId", "Kind", "Subject", "Thumbprint", "NotBefore", "NotAfter", "Status", "IssuedAt", "Pem")
            SELECT s, id, 'operational', 'CN=' || id, md5(s), @now, @notAfter, 'valid', @now, '' FROM unnest(@ids, @serials) AS u(id, s);
            UPDATE device_renewals r SET "CertificateSerial" = u.s, "NotBefore" = @now, "NotAfter" = @notAfter, "WindowOpensAt" = u.opens,
                "SlotAt" = u.slot, "AtRiskAt" = u.risk, "AskedAt" = NULL, "AskCount" = 0, "RenewedAt" = @now, "Status" = 'renewed'
            FROM unnest(@ids, @serials, @opens, @slots, @risks) AS u(id, s, opens, slot, risk)
            WHERE r."DeviceId" = ANY(@ids) AND r."DeviceId" = u.id;
            """, connection, tx))
        {
            command.Parameters.AddWithValue("ids", ids.ToArray());
            command.Parameters.AddWithValue("serials", serials);
            command.Parameters.AddWithValue("opens", opens);
            command.Parameters.AddWithValue("slots", slots);
            command.Parameters.AddWithValue("risks", risks);
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("notAfter", now + lifetime);
            await command.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return ids.Count;
    }

    /// <summary>Heap rows read from the planner's tables (sequential and index fetches), from PostgreSQL's statistics.</summary>
    private static async Task<long> RowsReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await Task.Delay(1100, ct);  // the statistics collector flushes at most once a second
        await Exec(connection, "SELECT pg_stat_clear_snapshot()", ct);
        return (long)(await Scalar(connection, """
            SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)::bigint
            FROM pg_stat_user_tables WHERE relname IN ('device_renewals', 'devices')
            """, ct))!;
    }

    private static async Task<long> SchemaBytesAsync(NpgsqlConnection connection, string schema, CancellationToken ct) =>
        (long)(await Scalar(connection, $"""
            SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = '{schema}' AND c.relkind = 'r'
            """, ct))!;

    private static async Task Exec(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return await command.ExecuteScalarAsync(ct);
    }

    /// <summary>The server host (its planner, lifecycle and Hangfire client) on the benchmark's database and clock.</summary>
    public static WebApplication Host(string connectionString, BenchClock clock) =>
        IotPkiServer.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:IotPki"] = connectionString,
                ["Jobs:Enabled"] = "false",
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Error",
                ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "None",
            });
            b.Services.AddSingleton<TimeProvider>(clock);
        });
}

/// <summary>A clock the benchmark moves by hand.</summary>
public sealed class BenchClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}
