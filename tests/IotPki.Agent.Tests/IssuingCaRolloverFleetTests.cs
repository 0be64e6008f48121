using System.Net;
using IotPki.FirmwareSim;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Fleet;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Agent.Tests;

/// <summary>An issuing-CA rollover in the middle of a running fleet of real agents on two instances: every device moves
/// to the new CA through its normal renewal (the server's ask), and no connection is refused on the way.</summary>
public sealed class IssuingCaRolloverFleetTests(IssuingCaRolloverFleetTests.Fixture server) : IClassFixture<IssuingCaRolloverFleetTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Renewal:MaxAskJitter"] = "00:00:02" };
    }

    private const int Devices = 10;

    [Fact]
    public async Task Every_device_ends_on_the_new_CA_with_no_refused_connection()
    {
        await using var second = await server.StartServerAsync(server.TempDirectory("rollover-second-"));
        var secondListeners = second.Services.GetRequiredService<ListenerEndpoints>();
        var factory = new Factory(server.TempDirectory("rollover-fleet-"));
        var ids = factory.Mint("rolling-", Devices, TimeSpan.FromDays(30)).ToList();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>().RegisterAsync("rolling", await File.ReadAllTextAsync(factory.CaCertificatePath),
                DeviceIdField.CommonName, "test", CancellationToken.None);
            Assert.Empty((await scope.ServiceProvider.GetRequiredService<DeviceRegistration>().RegisterAsync("rolling", ids, "test", CancellationToken.None)).Errors);
        }
        using var admin = await OperatorClient.IssueAsync(server, "rollover-admin", OperatorRole.Admin);
        using var api = OperatorClient.Create(server, admin);
        var run = new FleetRun(factory,
            [(server.EstBase, new Uri($"mqtts://localhost:{server.MqttPort}")),
             (secondListeners.Uri(ListenerEndpoints.Est), new Uri($"mqtts://localhost:{secondListeners.Get(ListenerEndpoints.Mqtt)!.Port}"))],
            server.CaBundlePath, startsPerSecond: 0, renewalFraction: 0.99, new FleetFaults(), telemetryInterval: TimeSpan.FromSeconds(2));
        var progress = new StringWriter();
        var started = DateTimeOffset.UtcNow;
        var fleet = run.RunAsync(ids, TimeSpan.FromSeconds(50), progress, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Interlocked.Read(ref run.Events.Connected) < Devices && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.True(Interlocked.Read(ref run.Events.Connected) >= Devices, progress.ToString());
        var oldKeyId = CertificateIdentifiers.SubjectKeyId(server.Pki.Issuing);

        IssuingCaRollover.Result rollover;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            rollover = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("operator:fleet-rollover", CancellationToken.None);
        }
        var newKeyId = CertificateIdentifiers.SubjectKeyId(server.Pki.Issuing);
        Assert.NotEqual(oldKeyId, newKeyId);
        foreach (var id in ids)
        {
            using var renew = await OperatorClient.PostJsonAsync(api, $"/api/v1/devices/{id}/renew");
            Assert.Equal(HttpStatusCode.Accepted, renew.StatusCode);
        }
        await fleet;
        var (line, _) = run.Summary(TimeSpan.FromSeconds(50));
        var why = $"{line} {run.Faults.Line()} | {string.Join("; ", run.Events.Errors)} | {progress}";

        Assert.True(run.Events.Refused == 0, why);
        Assert.True(run.Faults["online_at_end"] == Devices, why);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"DeviceId\" LIKE 'rolling-%' AND \"At\" >= '{started:O}'"));
        // Every device holds a valid certificate of the new CA, and none of the old one any more.
        Assert.Equal((long)Devices, await server.Database.ScalarAsync<long>($"""
            SELECT count(DISTINCT "DeviceId") FROM certificates
            WHERE "DeviceId" LIKE 'rolling-%' AND "Status" = 'valid' AND "IssuerKeyId" = '{newKeyId}'
            """));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>($"""
            SELECT count(*) FROM certificates WHERE "DeviceId" LIKE 'rolling-%' AND "Status" = 'valid' AND "IssuerKeyId" = '{oldKeyId}'
            """));
        Assert.Contains(rollover.Previous, server.Pki.Authorities.Select(a => a.Name));
    }
}
