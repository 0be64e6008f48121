using IotPki.Admin;
using IotPki.Server.Tests.Infrastructure;
using Spectre.Console;

namespace IotPki.Server.Tests.Fleet;

/// <summary>The operator command line (iotpki-admin) run in-process against a server's operator API.</summary>
public static class AdminCli
{
    /// <summary>An operator certificate of this role on disk, as the command line's connection options.</summary>
    public static async Task<string[]> CredentialsAsync(ServerFixture server, string name, string role)
    {
        var dir = server.TempDirectory("iotpki-admin-");
        using var certificate = await OperatorClient.IssueAsync(server, name, role);
        TestPki.WritePem(certificate, Path.Combine(dir, "op.pem"), Path.Combine(dir, "op.key"));
        return ["--url", server.OperatorBase.ToString(), "--cert", Path.Combine(dir, "op.pem"), "--key", Path.Combine(dir, "op.key"), "--ca", server.CaBundlePath];
    }

    public static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => RunAsync(200, args);

    public static async Task<(int Exit, string Out, string Err)> RunAsync(int width, string[] args)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        var error = new StringWriter();
        var exit = await AdminCommandLine.InvokeAsync(args, console, error);
        return (exit, output.ToString(), error.ToString());
    }
}
