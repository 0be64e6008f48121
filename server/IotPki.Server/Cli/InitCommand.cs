using System.CommandLine;
using IotPki.Server.Ca;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Cli;

/// <summary><c>init</c>: apply migrations and create the CAs if this is the first run.</summary>
public static class InitCommand
{
    public static Command Create()
    {
        var command = new Command("init", "Apply database migrations and initialize the PKI (root, issuing and demo manufacturer CAs).");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            await host.Services.GetRequiredService<PkiInitializer>().InitializeAsync(ct);
            var options = host.Services.GetRequiredService<IOptions<PkiOptions>>().Value;
            Console.WriteLine($"PKI ready. CA bundle: {Path.GetFullPath(Path.Combine(options.DataDirectory, ServerTlsCertificate.CaBundleFile))}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
