using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using MQTTnet;

namespace IotPki.Server.Tests.Outage;

/// <summary>PostgreSQL killed (<c>pg_ctl stop -m immediate</c>) under load and started again: meanwhile EST and the
/// operator API answer 503 with Retry-After, never 500 and never a certificate that was not committed, and the broker
/// still lets a valid device connect; afterwards the server recovers by itself, and every certificate a client received is in the database with its enrollment row.</summary>
public sealed class DatabaseOutageTests(DatabaseOutageTests.Fixture server) : IClassFixture<DatabaseOutageTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        public PrivateCluster Cluster { get; private set; } = null!;

        protected override async Task<PostgresDatabase> CreateDatabaseAsync()
        {
            Cluster = await PrivateCluster.StartAsync();
            return new PostgresDatabase(Cluster.AdminConnectionString);
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }

    private const int Devices = 120;
    private const int Renewers = 4;
    private const int Revoked = 12;

    [Fact]
    public async Task Under_load_an_outage_is_503_with_Retry_After_and_afterwards_every_certificate_received_is_committed()
    {
        var ids = Enumerable.Range(0, Devices).Select(i => $"outage-{i:D4}").ToArray();
        await server.RegisterAsync(ids);
        using var admin = await OperatorClient.IssueAsync(server, "outage-admin", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        using var connected = await DeviceIdentity.EnrollAsync(server, "outage-mqtt");
        var renewers = new List<DeviceIdentity>();
        for (var i = 0; i < Renewers; i++)
        {
            renewers.Add(await DeviceIdentity.EnrollAsync(server, $"outage-renew-{i}"));
        }
        var toRevoke = new ConcurrentQueue<string>();
        for (var i = 0; i < Revoked; i++)
        {
            using var victim = await DeviceIdentity.EnrollAsync(server, $"outage-revoke-{i:D2}");
            toRevoke.Enqueue(victim.Id);
        }
        var renewed = new ConcurrentDictionary<string, string>();  // serial → device, of every renewal answered
        var revokedOk = new ConcurrentBag<string>();
        var received = new ConcurrentDictionary<string, string>();  // device → serial it was given
        var statuses = new ConcurrentBag<(int Status, bool RetryAfter, string Where)>();
        var pending = new ConcurrentQueue<string>(ids);
        // One bootstrap certificate and one key per device across its retries, as a device keeps both: a first
        // enrollment whose commit landed but whose answer was lost is then sent again, not refused as a clone.
        var bootstraps = new ConcurrentDictionary<string, X509Certificate2>();
        var keys = new ConcurrentDictionary<string, ECDsa>();
        var databaseDown = false;
        var outageStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connectsWhileDown = 0;
        using var stop = new CancellationTokenSource();

        async Task EnrollLoopAsync()
        {
            while (!stop.IsCancellationRequested && pending.TryDequeue(out var id))
            {
                using var est = EstClient.Create(server, bootstraps.GetOrAdd(id, serial => server.Bootstrap(serial)));
                var csr = TestPki.Csr(keys.GetOrAdd(id, _ => ECDsa.Create(ECCurve.NamedCurves.nistP256)), id);
                using var response = await EstClient.PostCsrAsync(est, "simpleenroll", csr);
                statuses.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, $"enroll {id}"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    using var certificate = await EstClient.ReadCertificateAsync(response);
                    received[id] = CertificateIdentifiers.Serial(certificate);
                }
                else
                {
                    pending.Enqueue(id);  // a 503 (or a 202) is retried, as a device would
                    await Task.Delay(50);
                }
            }
        }

        async Task ApiLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await api.GetAsync("/api/v1/devices?limit=20");
                statuses.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, "api list"));
                await Task.Delay(20);
            }
        }

        // A device renews again and again, each time with the certificate it got last, as an agent would.
        async Task RenewLoopAsync(DeviceIdentity device)
        {
            var current = device.Certificate;
            while (!stop.IsCancellationRequested)
            {
                using (var est = EstClient.Create(server, current))
                {
                    var (key, csr) = TestPki.Csr(device.Id);
                    using var response = await EstClient.PostCsrAsync(est, "simplereenroll", csr);
                    statuses.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, $"renew {device.Id}"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        using var issued = await EstClient.ReadCertificateAsync(response);
                        renewed[CertificateIdentifiers.Serial(issued)] = device.Id;
                        current = issued.CopyWithPrivateKey(key);
                    }
                }
                await Task.Delay(100);
            }
        }

        // Operators revoke devices; a 503 is retried, as the admin CLI's user would.
        async Task RevokeLoopAsync()
        {
            await outageStarted.Task;
            while (!stop.IsCancellationRequested && toRevoke.TryDequeue(out var id))
            {
                using var response = await OperatorClient.PostJsonAsync(api, $"/api/v1/devices/{id}/revoke", new { reason = "keyCompromise" });
                statuses.Add(((int)response.StatusCode, response.Headers.RetryAfter is not null, $"revoke {id}"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    revokedOk.Add(id);
                }
                else
                {
                    toRevoke.Enqueue(id);
                }
                await Task.Delay(250);
            }
        }

        async Task MqttLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = new MqttClientFactory().CreateMqttClient();
                try
                {
                    await client.ConnectAsync(MqttTestClient.Options(server, connected.Certificate, connected.Id));
                    if (Volatile.Read(ref databaseDown))
                    {
                        Interlocked.Increment(ref connectsWhileDown);
                    }
                    await client.DisconnectAsync();
                }
                catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
                {
                }
                await Task.Delay(50);
            }
        }

        var load = new List<Task> { ApiLoopAsync(), MqttLoopAsync(), RevokeLoopAsync() };
        load.AddRange(renewers.Select(RenewLoopAsync));
        load.AddRange(Enumerable.Range(0, 4).Select(_ => EnrollLoopAsync()));
        string Progress() => $"{received.Count}/{Devices} enrolled, {revokedOk.Count}/{Revoked} revoked; some answers: "
            + string.Join("; ", statuses.Take(8).Select(s => $"{s.Where} {s.Status}"));
        await WaitUntilAsync(() => received.Count >= 10, load, Progress);
        await server.Cluster.StopImmediatelyAsync();
        Volatile.Write(ref databaseDown, true);
        outageStarted.SetResult();
        var enrolledBeforeOutage = received.Count;
        // A refusal at the broker while PostgreSQL is down still gets its audit row once it is back.
        using var stranger = TestPki.SelfSigned($"outage-stranger-{Guid.NewGuid():N}");
        using (var refused = new MqttClientFactory().CreateMqttClient())
        {
            await Assert.ThrowsAnyAsync<Exception>(() => refused.ConnectAsync(MqttTestClient.Options(server, stranger, null)));
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        var outageStatuses = statuses.ToList();
        Volatile.Write(ref databaseDown, false);
        await server.Cluster.StartAgainAsync();
        await WaitUntilAsync(() => received.Count == Devices && revokedOk.Count == Revoked, load, Progress, TimeSpan.FromSeconds(120));
        stop.Cancel();
        await Task.WhenAll(load);

        var errors = statuses.Where(s => s.Status >= 500 && !(s.Status == 503 && s.RetryAfter)).ToList();
        Assert.True(errors.Count == 0, string.Join("; ", errors.Take(10)));
        Assert.Contains(outageStatuses, s => s.Status == 503 && s.RetryAfter && s.Where.StartsWith("enroll"));
        Assert.Contains(outageStatuses, s => s.Status == 503 && s.RetryAfter && s.Where.StartsWith("renew"));
        Assert.Contains(outageStatuses, s => s.Status == 503 && s.RetryAfter && s.Where.StartsWith("revoke"));
        Assert.True(enrolledBeforeOutage < Devices, "the outage hit the load");
        Assert.True(connectsWhileDown > 0, "the broker let a valid device connect while the database was down");
        Assert.Equal(Devices, received.Count);
        foreach (var (id, serial) in received)
        {
            Assert.Equal(1L, await server.Database.ScalarAsync<long>(
                "SELECT count(*) FROM certificates WHERE \"Serial\" = $1 AND \"DeviceId\" = $2", serial, id));
        }
        Assert.True(renewed.Count > Renewers, "renewals went on around the outage");
        foreach (var (serial, id) in renewed)
        {
            Assert.Equal(1L, await server.Database.ScalarAsync<long>(
                "SELECT count(*) FROM certificates WHERE \"Serial\" = $1 AND \"DeviceId\" = $2", serial, id));
        }
        Assert.Equal((long)Revoked, await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM devices d WHERE d."Id" LIKE 'outage-revoke-%' AND d."State" = 'revoked'
              AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c."DeviceId" = d."Id" AND c."Status" <> 'revoked')
              AND (SELECT count(*) FROM audit_events a WHERE a."DeviceId" = d."Id" AND a."Action" = 'device.revoked') = 1
            """));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM certificates c WHERE c."Kind" = 'operational'
              AND NOT EXISTS (SELECT 1 FROM enrollment_attempts a WHERE a."IssuedSerial" = c."Serial" AND a."Outcome" = 'issued')
            """));
        var strangerActor = $"cert:{CertificateIdentifiers.Thumbprint(stranger)}";
        for (var i = 0; i < 100 && await StrangerRowsAsync() == 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(1L, await StrangerRowsAsync());

        Task<long> StrangerRowsAsync() => server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"Actor\" = $1", strangerActor);
        // Recovered by itself: the broker and EST serve again on the same process.
        using var after = await DeviceIdentity.EnrollAsync(server, "outage-after");
        using var mqtt = await MqttTestClient.ConnectAsync(server, after.Certificate, after.Id);
        Assert.True(mqtt.IsConnected);
    }

    /// <summary>Waits for the load to get somewhere; a loop that died is rethrown at once, and a timeout says how far it got.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, List<Task> load, Func<string> progress, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!condition())
        {
            if (load.FirstOrDefault(t => t.IsFaulted) is { } died)
            {
                await died;
            }
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for the load: {progress()}");
            await Task.Delay(50);
        }
    }
}
