using System.Diagnostics;
using IotPki.Agent.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IotPki.Agent.Tests;

/// <summary>Crashes in the middle of rotations: the state directory must always recover to a usable identity.</summary>
public sealed class CrashSafetyTests(ShortLivedServerFixture server, ITestOutputHelper output) : IClassFixture<ShortLivedServerFixture>
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

    [Fact]
    public async Task SIGKILL_of_the_agent_executable_during_rotations_always_leaves_a_usable_identity()
    {
        using var device = await AgentHarness.CreateAsync(server, "agent-kill-01");
        var agentDll = AgentDll;
        Assert.True(File.Exists(agentDll), agentDll);
        // Fraction 0: the executable rotates back to back, so a kill lands somewhere inside a rotation.
        var config = device.WriteConfig(renewalFraction: 0, broker: true);
        var random = new Random(7);
        var serials = new HashSet<string>();

        for (var trial = 0; trial < 12; trial++)
        {
            using var process = Start(agentDll, config);
            var lines = new List<string>();
            var firstRotation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    return;
                }
                lock (lines)
                {
                    lines.Add(e.Data);
                }
                if (e.Data.Contains("Rotating certificate", StringComparison.Ordinal))
                {
                    firstRotation.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            var started = await Task.WhenAny(firstRotation.Task, Task.Delay(TimeSpan.FromSeconds(20)));
            Assert.True(started == firstRotation.Task, "the agent did not start rotating:\n" + string.Join('\n', lines));
            await Task.Delay(random.Next(0, 400));
            process.Kill(); // SIGKILL
            await process.WaitForExitAsync();

            using var identity = device.AssertUsableIdentity();
            serials.Add(identity.Serial);
        }
        output.WriteLine($"distinct identities after the kills: {serials.Count}");
        Assert.True(serials.Count > 1, "the kills should land after some rotations completed");

        // Restarted with the normal schedule, the executable comes back with the surviving identity and stays up.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"RenewalFraction\":0", "\"RenewalFraction\":0.6667", StringComparison.Ordinal));
        using var final = Start(agentDll, config);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finalLines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        final.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } l)
            {
                finalLines.Enqueue(l);
            }
            if (e.Data is { } line && line.Contains("renewal at", StringComparison.Ordinal))
            {
                ready.TrySetResult(line);
            }
        };
        final.BeginOutputReadLine();
        Assert.True(await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(20))) == ready.Task, "the restarted agent did not come back");
        Assert.Contains(finalLines, l => l.Contains("Connected as agent-kill-01", StringComparison.Ordinal)
            || l.Contains("proven by a broker connection", StringComparison.Ordinal));
        final.Kill();
        await final.WaitForExitAsync();
        using var last = device.AssertUsableIdentity();
    }

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

    private static Process Start(string agentDll, string config)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(agentDll);
        info.ArgumentList.Add("run");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(config);
        return Process.Start(info)!;
    }
}
