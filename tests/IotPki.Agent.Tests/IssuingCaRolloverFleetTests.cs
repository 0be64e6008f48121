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

    /// <summary>How long the fleet may take to reach each outcome before the test gives up on it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

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
        // The fleet runs until the outcome is reached, not for a fixed window: a slow machine only makes it run longer.
        using var stop = new CancellationTokenSource();
        var fleet = run.RunAsync(ids, Patience, progress, stop.Token);
        await WaitUntilAsync(fleet, () => Task.FromResult(Interlocked.Read(ref run.Events.Connected) >= Devices));
        Assert.True(Interlocked.Read(ref run.Events.Connected) >= Devices, progress.ToString());
        var oldKeyId = CertificateIdentifiers.SubjectKeyId(server.Pki.Issuing);
        Assert.NotNull(oldKeyId);

        IssuingCaRollover.Result rollover;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            rollover = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("operator:fleet-rollover", CancellationToken.None);
        }
        var newKeyId = CertificateIdentifiers.SubjectKeyId(server.Pki.Issuing);
        Assert.NotNull(newKeyId);
        Assert.NotEqual(oldKeyId, newKeyId);
        // The rollover returns once both instances sign with the new CA, so the operator's asks follow at once.
        Assert.Empty(rollover.Lagging);
        Assert.Equal(newKeyId, CertificateIdentifiers.SubjectKeyId(second.Services.GetRequiredService<PkiState>().Issuing));
        foreach (var id in ids)
        {
            using var renew = await OperatorClient.PostJsonAsync(api, $"/api/v1/devices/{id}/renew");
            Assert.Equal(HttpStatusCode.Accepted, renew.StatusCode);
        }
        await WaitUntilAsync(fleet, async () => run.OnlineNow() == Devices && await ValidCertificatesAsync(newKeyId) == Devices && await ValidCertificatesAsync(oldKeyId) == 0);
        await stop.CancelAsync();
        await fleet;
        var (line, _) = run.Summary(DateTimeOffset.UtcNow - started);
        var why = $"{line} {run.Faults.Line()} | {string.Join("; ", run.Events.Errors)} | {progress}";

        Assert.True(run.Events.Refused == 0, why);
        Assert.True(run.Faults["online_at_end"] == Devices, why);
        var refusals = await server.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_events WHERE \"Action\" = 'mqtt.refused' AND \"DeviceId\" LIKE 'rolling-%' AND \"At\" >= '{started:O}'");
        Assert.True(refusals == 0, $"{refusals} broker refusals audited: {why}");
        // Every device holds a valid certificate of the new CA, and none of the old one any more.
        var onNew = await ValidCertificatesAsync(newKeyId);
        var onOld = await ValidCertificatesAsync(oldKeyId);
        Assert.True(onNew == Devices && onOld == 0, $"{onNew} of {Devices} devices on the new CA, {onOld} still on the old one: {why}");
        Assert.Contains(rollover.Previous, server.Pki.Authorities.Select(a => a.Name));
    }

    /// <summary>Devices of this test holding a valid certificate of the CA with key id <paramref name="keyId"/>.</summary>
    private Task<long> ValidCertificatesAsync(string keyId) => server.Database.ScalarAsync<long>($"""
        SELECT count(DISTINCT "DeviceId") FROM certificates
        WHERE "DeviceId" LIKE 'rolling-%' AND "Status" = 'valid' AND "IssuerKeyId" = '{keyId}'
        """);

    /// <summary>Polls until <paramref name="reached"/> holds or the fleet has run its whole patience.</summary>
    private static async Task WaitUntilAsync(Task fleet, Func<Task<bool>> reached)
    {
        while (!fleet.IsCompleted && !await reached())
        {
            await Task.Delay(250);
        }
    }
}
