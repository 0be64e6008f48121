using IotPki.Agent.Tests.Infrastructure;
using IotPki.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary>The Raspberry Pi build: <c>dotnet publish -r linux-arm64</c> (self-contained, trimmed, single file), run under
/// qemu-aarch64-static against the server and broker on loopback.</summary>
public sealed class PublishedBuildTests(ShortLivedServerFixture server, ITestOutputHelper output) : IClassFixture<ShortLivedServerFixture>
{
    private const string Qemu = "/usr/bin/qemu-aarch64-static";

    [Fact]
    public async Task The_trimmed_linux_arm64_build_enrolls_and_connects_under_qemu()
    {
        Assert.True(File.Exists(Qemu), $"{Qemu} is missing: apt-get install qemu-user-static, and the arm64 libc and OpenSSL (libc6:arm64 libssl3:arm64)");
        using var device = await AgentHarness.CreateAsync(server, "agent-arm64-01");
        var publishDirectory = Path.Combine(device.Directory, "publish");
        var published = await ChildProcess.RunAsync("dotnet", ["publish", Path.Combine(RepositoryPaths.Root, "device-agent", "IotPki.Agent.Cli"),
            "-c", "Release", "-r", "linux-arm64", "-o", publishDirectory, "--nologo"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(published.ExitCode == 0, published.Stdout + published.Stderr);
        var binary = Path.Combine(publishDirectory, "iotpki-agent");
        var size = new FileInfo(binary).Length;

        using var agent = AgentProcess.Start(Qemu, [binary, "run", "--config", device.WriteConfig(renewalFraction: 0.6667)],
            new Dictionary<string, string> { ["IOTPKI_AGENT_BROKER_URL"] = $"mqtts://127.0.0.1:{server.MqttPort}" });
        // Emulated, on a machine the other test classes keep busy: minutes, not seconds. This bounds a hang, not speed.
        await agent.WaitForAsync(l => l.Contains("renewal at", StringComparison.Ordinal), "enroll and connect", TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = File.ReadLines($"/proc/{agent.Id}/status").First(l => l.StartsWith("VmRSS", StringComparison.Ordinal));
        output.WriteLine($"linux-arm64 single file: {size / 1024.0 / 1024.0:F1} MiB; under qemu once connected: {rss}");
        agent.Kill();

        Assert.True(agent.Printed("proven by a broker connection"), agent.Output);
        using var identity = device.AssertUsableIdentity();
    }
}
