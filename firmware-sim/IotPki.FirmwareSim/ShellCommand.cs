using System.Diagnostics;

namespace IotPki.FirmwareSim;

/// <summary>Runs an operator-supplied command line through <c>/bin/sh -c</c>; a non-zero exit is an error that names it.</summary>
public static class ShellCommand
{
    public static async Task RunAsync(string commandLine, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", commandLine]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"Could not start: {commandLine}");
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{commandLine}' exited with {process.ExitCode}.");
        }
    }
}
