using IotPki.Agent.Tests.Infrastructure;
using IotPki.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary>The agent as shipped: <c>dotnet publish -r RID</c>, NativeAOT by default and the trimmed single file as the
/// fallback, each run as a process against the server and broker on loopback until it enrolls and connects.</summary>
public sealed class PublishedBuildTests(ShortLivedServerFixture server, ITestOutputHelper output) : IClassFixture<ShortLivedServerFixture>
{
    private const string Qemu = "/usr/bin/qemu-aarch64-static";

    [Fact]
    public async Task The_NativeAOT_linux_arm64_build_enrolls_and_connects_under_qemu()
    {
        Assert.True(File.Exists(Qemu), $"{Qemu} is missing: apt-get install qemu-user-static, and the arm64 libc and OpenSSL (libc6:arm64 libssl3:arm64)");
        using var device = await AgentHarness.CreateAsync(server, "agent-arm64-01");
        var binary = await PublishAsync(device, "linux-arm64", nativeAot: true);
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(binary)!, "iotpki-agent.dll")), "a NativeAOT build ships no IL");

        await RunUntilConnectedAsync(device, binary, Qemu, binary);
    }

    [Fact]
    public async Task The_trimmed_single_file_fallback_build_enrolls_and_connects()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-trimmed-01");
        var binary = await PublishAsync(device, "linux-x64", nativeAot: false);

        await RunUntilConnectedAsync(device, binary, binary);
    }

    private async Task<string> PublishAsync(AgentHarness device, string rid, bool nativeAot)
    {
        var publishDirectory = Path.Combine(device.Directory, "publish");
        var published = await ChildProcess.RunAsync("dotnet", ["publish", Path.Combine(RepositoryPaths.Root, "device-agent", "IotPki.Agent.Cli"),
            "-c", "Release", "-r", rid, $"-p:AgentNativeAot={nativeAot}", "-o", publishDirectory, "--nologo"], timeout: TimeSpan.FromMinutes(5));
        Assert.True(published.ExitCode == 0, published.Stdout + published.Stderr);
        var binary = Path.Combine(publishDirectory, "iotpki-agent");
        output.WriteLine($"{rid} {(nativeAot ? "NativeAOT" : "trimmed single file")}: {new FileInfo(binary).Length / 1024.0 / 1024.0:F1} MiB");
        return binary;
    }

    private async Task RunUntilConnectedAsync(AgentHarness device, string binary, string program, params string[] arguments)
    {
        using var agent = AgentProcess.Start(program, [.. arguments, "run", "--config", device.WriteConfig(renewalFraction: 0.6667)],
            new Dictionary<string, string> { ["IOTPKI_AGENT_BROKER_URL"] = $"mqtts://127.0.0.1:{server.MqttPort}" });
        // Emulated, on a machine the other test classes keep busy: minutes, not seconds. This bounds a hang, not speed.
        await agent.WaitForAsync(l => l.Contains("renewal at", StringComparison.Ordinal), "enroll and connect", TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = File.ReadLines($"/proc/{agent.Id}/status").First(l => l.StartsWith("VmRSS", StringComparison.Ordinal));
        output.WriteLine($"{Path.GetFileName(binary)} once connected: {rss}");
        agent.Kill();

        Assert.True(agent.Printed("proven by a broker connection"), agent.Output);
        using var identity = device.AssertUsableIdentity();
    }
}
