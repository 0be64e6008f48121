using System.Diagnostics;
using IotPki.Agent.Tests.Infrastructure;
using IotPki.Identity;
using IotPki.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary>Crashes in the middle of rotations: the state directory must always recover to a usable identity.</summary>
// Certificates that outlive the test (fraction 0 rotates at once whatever the lifetime): under a loaded machine a hundred
// kills can take longer than a three-minute certificate lives, and an identity no rotation replaced in time expired.
public sealed class CrashSafetyTests(ServerFixture server, ITestOutputHelper output) : IClassFixture<ServerFixture>
{
    private sealed class SimulatedCrashException(string point) : Exception($"simulated crash at {point}");

    [Fact]
    public async Task A_crash_at_any_step_of_a_rotation_always_recovers_a_usable_identity_that_connects_again()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-crash-01");
        await device.RunUntilReadyAsync(device.Options(broker: true));
        var seenPoints = new HashSet<string>();
        var rotated = 0;
        var random = new Random(4242);

        for (var trial = 0; trial < 100; trial++)
        {
            string before;
            using (var current = device.AssertUsableIdentity())
            {
                before = current.Serial;
            }
            // Rotate at once (fraction 0) and crash at the n-th step: a step of a file write, a pointer switch, or between them.
            var crashAt = random.Next(1, 30);
            var steps = 0;
            var agent = device.NewAgent(device.Options(renewalFraction: 0, broker: true), point =>
            {
                if (++steps == crashAt)
                {
                    lock (seenPoints)
                    {
                        seenPoints.Add(point);
                    }
                    throw new SimulatedCrashException(point);
                }
            });
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => agent.RunAsync(guard.Token));

            using (var recovered = device.AssertUsableIdentity())
            {
                if (recovered.Serial != before)
                {
                    rotated++;
                }
            }
            // A restarted agent proves a pending identity (or keeps the current one) and comes back ready.
            await device.RunUntilReadyAsync(device.Options(broker: true), timeout: TimeSpan.FromSeconds(30));
            using var afterRestart = device.AssertUsableIdentity();
            Assert.Single(Directory.EnumerateDirectories(Path.Combine(device.StateDirectory, "identities")));
        }

        output.WriteLine($"crash points hit: {string.Join(", ", seenPoints.Order())}; trials that ended on a new identity: {rotated}");
        Assert.Contains("file.written", seenPoints);
        Assert.Contains("pending.pointer", seenPoints);
        Assert.Contains("current.pointer", seenPoints);
        Assert.InRange(rotated, 1, 99);
    }

    /// <summary>The issue's bar: SIGKILL the agent process at random points of a rotation at least 100 times; every
    /// restart must come back with an identity that connects to the broker.</summary>
    private const int Kills = 100;

    [Fact]
    public async Task SIGKILL_of_the_agent_executable_at_random_points_of_rotations_always_restarts_with_an_identity_that_connects()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-kill-01");
        Assert.True(File.Exists(AgentDll), AgentDll);
        // Fraction 0: the executable rotates back to back, so a kill lands somewhere inside a rotation.
        var config = device.WriteConfig(renewalFraction: 0, broker: true);
        var random = new Random(7);
        var serials = new HashSet<string>();
        var phases = new Dictionary<string, int>();
        int killsWithPending = 0, killsWithTempFiles = 0;

        for (var trial = 0; trial <= Kills; trial++)
        {
            using var agent = AgentProcess.Start(AgentDll, config);
            // The restart after the previous kill: the recovered (or pending) identity must connect.
            await agent.WaitForAsync(IsConnectedLine, "connect with the identity it recovered");
            if (trial == Kills)
            {
                agent.Kill();
                break;
            }
            await agent.WaitForAsync(l => l.Contains("Rotating certificate", StringComparison.Ordinal), "start a rotation");
            await Task.Delay(random.Next(0, 350));
            var phase = agent.Kill();
            phases[phase] = phases.GetValueOrDefault(phase) + 1;

            // What the kill left, before a restart recovers it.
            killsWithPending += File.Exists(Path.Combine(device.StateDirectory, IdentityStore.PendingPointer)) ? 1 : 0;
            killsWithTempFiles += Directory.EnumerateFiles(device.StateDirectory, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories).Any() ? 1 : 0;
            using var identity = device.AssertUsableIdentity();
            serials.Add(identity.Serial);
        }

        output.WriteLine($"{Kills} SIGKILLs; last log line before each kill: " +
            string.Join("; ", phases.OrderByDescending(p => p.Value).Select(p => $"{p.Value}× \"{p.Key}\"")));
        output.WriteLine($"kills that left a pending identity: {killsWithPending}, left temp files: {killsWithTempFiles}; distinct identities: {serials.Count}");
        Assert.True(serials.Count > 1, "the kills should land after some rotations completed");
        Assert.True(killsWithPending > 0, "some kills should land between staging a new identity and proving it");
        Assert.True(phases.Count > 1, "the kills should land in different phases of a rotation");
    }

    private static bool IsConnectedLine(string line) =>
        line.Contains("Connected as agent-kill-01", StringComparison.Ordinal) || line.Contains("proven by a broker connection", StringComparison.Ordinal);

    [Fact]
    public async Task The_executable_exits_3_with_the_servers_reason_when_the_device_is_revoked()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-kill-rev");
        await device.RunUntilReadyAsync(device.Options());
        await server.Database.ExecuteAsync("UPDATE certificates SET \"Status\" = 'revoked', \"RevokedAt\" = now() WHERE \"DeviceId\" = $1", "agent-kill-rev");
        await server.Database.ExecuteAsync("UPDATE devices SET \"State\" = 'revoked' WHERE \"Id\" = $1", "agent-kill-rev");
        var config = device.WriteConfig(renewalFraction: 0);

        var result = await IotPki.Server.Tests.Infrastructure.ChildProcess.RunAsync("dotnet",
            [AgentDll, "run", "--config", config], timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("certificate_revoked", result.Stdout);
        Assert.Contains("Agent stopped", result.Stdout);
    }

    /// <summary>The executable in its own build output (its deps.json names the logging package the test output lacks).</summary>
    private static string AgentDll => Path.Combine(AppContext.BaseDirectory.Replace(
        Path.Combine("tests", "IotPki.Agent.Tests", "bin"), Path.Combine("device-agent", "IotPki.Agent.Cli", "bin"), StringComparison.Ordinal), "iotpki-agent.dll");
}
