using System.Security.Cryptography.X509Certificates;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary><c>iotpki-sim factory</c> as a manufacturer runs it: a production run minted into one folder per device
/// (key 0600, certificate, agent.json), the manufacturer and its serials registered through the operator API, and a
/// device started from its own agent.json enrolls and connects.</summary>
public sealed class FactoryCommandTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int Devices = 300;

    [Fact]
    public async Task A_production_run_is_minted_registered_through_the_API_and_a_device_runs_from_its_folder()
    {
        var work = server.TempDirectory("factory-");
        using var admin = await OperatorClient.IssueAsync(server, "factory-admin", OperatorRole.Admin);
        File.WriteAllText(Path.Combine(work, "admin.pem"), admin.ExportCertificatePem());
        using (var key = admin.GetECDsaPrivateKey()!)
        {
            File.WriteAllText(Path.Combine(work, "admin.key"), key.ExportPkcs8PrivateKeyPem());
        }
        var run = Path.Combine(work, "run");

        var result = await ChildProcess.RunAsync("dotnet", [SimDll, "factory", "--manufacturer", "acme-sensors", "--count", Devices.ToString(),
            "--out", run, "--est", server.EstBase.ToString(), "--broker", $"mqtts://localhost:{server.MqttPort}", "--ca-bundle", server.CaBundlePath,
            "--register", server.OperatorBase.ToString(), "--operator-cert", Path.Combine(work, "admin.pem"), "--operator-key", Path.Combine(work, "admin.key")],
            timeout: TimeSpan.FromMinutes(5));

        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains($"Minted {Devices} bootstrap identities", result.Stdout);
        Assert.Contains($"{Devices} added, 0 already registered (manufacturer acme-sensors)", result.Stdout);
        Assert.Equal((long)Devices, await server.Database.ScalarAsync<long>("""
            SELECT count(*) FROM devices d JOIN manufacturers m ON m."Id" = d."ManufacturerId" WHERE m."Name" = 'acme-sensors' AND d."State" = 'registered'
            """));
        var serials = File.ReadAllLines(Path.Combine(run, "serials.csv"));
        Assert.Equal("serial", serials[0]);
        Assert.Equal(Devices, serials.Skip(1).Distinct().Count());
        foreach (var serial in serials.Skip(1).Take(20))
        {
            var folder = Path.Combine(run, "devices", serial);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "boot.key")));
            Assert.True(File.Exists(Path.Combine(folder, "boot.pem")));
        }

        // A bad count is one line and a non-zero exit; rerunning the same run keeps every device's key and registers nothing twice.
        var bad = await ChildProcess.RunAsync("dotnet", [SimDll, "factory", "--manufacturer", "acme-sensors", "--count", "0", "--out", run],
            timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        var firstKey = File.ReadAllText(Path.Combine(run, "devices", serials[1], "boot.key"));
        var again = await ChildProcess.RunAsync("dotnet", [SimDll, "factory", "--manufacturer", "acme-sensors", "--count", Devices.ToString(),
            "--out", run, "--ca-bundle", server.CaBundlePath,
            "--register", server.OperatorBase.ToString(), "--operator-cert", Path.Combine(work, "admin.pem"), "--operator-key", Path.Combine(work, "admin.key")],
            timeout: TimeSpan.FromMinutes(5));
        Assert.True(again.ExitCode == 0, again.Stderr + again.Stdout);
        Assert.Contains($"0 added, {Devices} already registered", again.Stdout);
        Assert.Equal(firstKey, File.ReadAllText(Path.Combine(run, "devices", serials[1], "boot.key")));

        var options = AgentOptions.Load(Path.Combine(run, "devices", serials[1], "agent.json"), new Dictionary<string, string?>());
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var agent = new DeviceAgent(options, NullLogger.Instance);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        agent.IdentityReady += serial => ready.TrySetResult(serial);
        var running = agent.RunAsync(stop.Token);
        var proven = await ready.Task.WaitAsync(stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM certificates WHERE \"DeviceId\" = $1 AND \"Serial\" = $2 AND \"Kind\" = 'operational'", serials[1], proven));
    }

    private static string SimDll => Path.Combine(AppContext.BaseDirectory.Replace(
        Path.Combine("tests", "IotPki.Agent.Tests", "bin"), Path.Combine("firmware-sim", "IotPki.FirmwareSim", "bin"), StringComparison.Ordinal), "iotpki-sim.dll");
}
