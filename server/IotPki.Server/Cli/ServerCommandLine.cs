using System.CommandLine;

namespace IotPki.Server.Cli;

/// <summary>Operator subcommands of the server binary; anything else starts the server.</summary>
public static class ServerCommandLine
{
    private static readonly HashSet<string> Names = ["init", "manufacturer", "device", "bootstrap", "operator", "service", "health", "ca", "--help", "-h", "help"];

    public static bool IsSubcommand(string[] args) => args.Length > 0 && Names.Contains(args[0]);

    public static RootCommand Create()
    {
        var root = new RootCommand("IotPki server. Without a subcommand it serves EST (and later MQTT and the operator API).");
        root.Add(InitCommand.Create());
        root.Add(ManufacturerCommands.Create());
        root.Add(DeviceCommands.Create());
        root.Add(BootstrapCommand.Create());
        root.Add(OperatorCommand.Create(IotPki.Identity.CertificateKind.Operator));
        root.Add(OperatorCommand.Create(IotPki.Identity.CertificateKind.Service));
        root.Add(HealthCommand.Create());
        root.Add(CaCommands.Create());
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {parse.Errors[0].Message}");
            return ExitCodes.BadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Npgsql.PostgresException e) when (e.SqlState is Npgsql.PostgresErrorCodes.UndefinedTable or Npgsql.PostgresErrorCodes.UndefinedColumn)
        {
            Console.Error.WriteLine("error: the database is not set up for this version of IotPki: run ./iotpki init (or ./iotpki up) first");
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is Data.RegistrationException or InvalidOperationException or IOException
            or FormatException or System.Security.Cryptography.CryptographicException or Npgsql.NpgsqlException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
