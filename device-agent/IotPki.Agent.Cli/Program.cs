using System.Runtime.InteropServices;
using IotPki.Agent;
using IotPki.Agent.Cli;
using Microsoft.Extensions.Logging;

// iotpki-agent run --config agent.json [--verbose]
if (args.Length == 0 || args[0] is "-h" or "--help" || args[0] != "run")
{
    Console.Error.WriteLine("usage: iotpki-agent run --config <agent.json> [--verbose]");
    return args.Length > 0 && args[0] is "-h" or "--help" ? ExitCodes.Ok : ExitCodes.Usage;
}
string? config = null;
var verbose = false;
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--config" or "-c" when i + 1 < args.Length: config = args[++i]; break;
        case "--verbose" or "-v": verbose = true; break;
        default:
            Console.Error.WriteLine($"iotpki-agent: unknown argument '{args[i]}'");
            return ExitCodes.Usage;
    }
}
config ??= Environment.GetEnvironmentVariable("IOTPKI_AGENT_CONFIG");

var logger = new StdoutLogger(verbose ? LogLevel.Debug : LogLevel.Information);
AgentOptions options;
DeviceAgent agent;
try
{
    options = AgentOptions.Load(config);
    agent = new DeviceAgent(options, logger);
}
catch (Exception e) when (e is AgentConfigurationException or IOException or UnauthorizedAccessException or UriFormatException
                              or FormatException or System.Text.Json.JsonException or System.Security.Cryptography.CryptographicException)
{
    Console.Error.WriteLine($"iotpki-agent: configuration error: {e.Message}");
    return ExitCodes.Configuration;
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
try
{
    await agent.RunAsync(stop.Token);
    return ExitCodes.Ok;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    logger.LogInformation("Agent stopped by signal");
    return ExitCodes.Ok;
}
catch (AgentStoppedException e)
{
    logger.LogCritical("Agent stopped: {Reason}", e.Message);
    return ExitCodes.Stopped;
}
catch (AgentConfigurationException e)
{
    logger.LogCritical("Configuration error: {Error}", e.Message);
    return ExitCodes.Configuration;
}
catch (Exception e)
{
    // Unexpected: one line, and a non-zero exit so that systemd restarts the agent (the state directory recovers).
    logger.LogCritical("Agent failed: {Type}: {Error}", e.GetType().Name, e.Message);
    return ExitCodes.Failed;
}

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 64;
    public const int Configuration = 78;
    /// <summary>Stopped for good (revoked or blocked): systemd must not restart it (RestartPreventExitStatus).</summary>
    public const int Stopped = 3;
}
