using System.Diagnostics;

namespace IotPki.Agent.Tests.Infrastructure;

/// <summary>The <c>iotpki-agent</c> executable as a child process: its stdout lines as they come, and SIGKILL.</summary>
public sealed class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waits = [];

    private AgentProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }
            lock (_lines)
            {
                _lines.Add(line);
                foreach (var wait in _waits.Where(w => w.Match(line)))
                {
                    wait.Seen.TrySetResult();
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The framework-dependent build: <c>dotnet iotpki-agent.dll run --config FILE</c>.</summary>
    public static AgentProcess Start(string agentDll, string config) => Start("dotnet", [agentDll, "run", "--config", config]);

    /// <summary>Any build of the agent, e.g. a published binary under qemu, with extra environment variables.</summary>
    public static AgentProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in arguments)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        return new AgentProcess(Process.Start(info)!);
    }

    public int Id => _process.Id;

    public bool Printed(string text)
    {
        lock (_lines)
        {
            return _lines.Any(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    /// <summary>Waits for a line of the agent's output that matches (one already printed counts).</summary>
    public async Task WaitForAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (_lines.Any(match))
            {
                return;
            }
            _waits.Add((match, seen));
        }
        var done = await Task.WhenAny(seen.Task, Task.Delay(timeout ?? TimeSpan.FromSeconds(30)));
        Assert.True(done == seen.Task, $"The agent did not {what}. Its output:\n{Output}");
    }

    /// <summary>SIGKILL; returns the agent's last output line before the kill (the phase it was in).</summary>
    public string Kill()
    {
        string last;
        lock (_lines)
        {
            last = _lines.Count == 0 ? "(nothing)" : _lines[^1];
        }
        _process.Kill();
        _process.WaitForExit();
        // The line without its timestamp and serials, so equal phases count together.
        var message = last.Contains(": ", StringComparison.Ordinal) ? last[(last.IndexOf(": ", StringComparison.Ordinal) + 2)..] : last;
        return System.Text.RegularExpressions.Regex.Replace(message, "[0-9a-f]{16,}", "<serial>").Split(" valid until")[0].Split(';')[0];
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines.TakeLast(40));
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
