using System.Diagnostics;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>Runs a real client (openssl, curl, mosquitto_pub) as a child process.</summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? workingDirectory = null,
        TimeSpan? timeout = null, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static async Task<Result> ShellAsync(string script, string workingDirectory, TimeSpan? timeout = null) =>
        await RunAsync("bash", ["-euo", "pipefail", "-c", script], workingDirectory, timeout);
}
