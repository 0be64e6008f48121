namespace IotPki.Server.Tests.Infrastructure;

/// <summary>The server binary's operator commands (<c>dotnet IotPki.Server.dll ca rollover</c>, ...) as a user runs
/// them: a separate process, configured by its environment.</summary>
public static class ServerCli
{
    public static Task<ChildProcess.Result> RunAsync(IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        ChildProcess.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "IotPki.Server.dll"), .. args], workingDirectory, timeout, environment);
}
