using System.CommandLine;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Cli;

/// <summary><c>manufacturer add|list</c>.</summary>
public static class ManufacturerCommands
{
    public static Command Create()
    {
        var command = new Command("manufacturer", "Register and list manufacturers (trust anchors of bootstrap certificates).");
        command.Add(Add());
        command.Add(List());
        return command;
    }

    private static Command Add()
    {
        var name = new Option<string>("--name") { Required = true, Description = "Manufacturer name ([a-z0-9][a-z0-9._-]{2,63})" };
        var ca = new Option<FileInfo>("--ca") { Required = true, Description = "PEM file of the manufacturer CA certificate" };
        var field = new Option<string>("--id-field") { Description = "Subject attribute holding the device id: cn or serialNumber", DefaultValueFactory = _ => "cn" };
        var command = new Command("add", "Register a manufacturer CA.") { name, ca, field };
        command.SetAction(async (parse, ct) =>
        {
            if (!BootstrapIdentity.TryParseField(parse.GetValue(field), out var idField))
            {
                Console.Error.WriteLine("error: --id-field must be cn or serialNumber");
                return ExitCodes.BadInput;
            }
            var file = parse.GetValue(ca)!;
            if (!file.Exists)
            {
                Console.Error.WriteLine($"error: {file.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var registration = scope.ServiceProvider.GetRequiredService<ManufacturerRegistration>();
            var added = await registration.RegisterAsync(parse.GetValue(name)!, await File.ReadAllTextAsync(file.FullName, ct), idField, CliActor.Name, ct);
            Console.WriteLine($"Registered manufacturer {added.Name} (CA {added.CaThumbprint[..16]}…, device id in {added.DeviceIdField}).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List manufacturers.");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
            foreach (var m in await db.Manufacturers.AsNoTracking().OrderBy(m => m.Name).ToListAsync(ct))
            {
                Console.WriteLine($"{m.Name}\t{m.DeviceIdField}\t{m.CaThumbprint}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}

public static class CliActor
{
    public static string Name => $"cli:{Environment.UserName}";
}
