using System.CommandLine;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Cli;

/// <summary><c>device register|import|list</c>.</summary>
public static class DeviceCommands
{
    public static Command Create()
    {
        var command = new Command("device", "Register device serials and list devices.");
        command.Add(Register());
        command.Add(Import());
        command.Add(List());
        return command;
    }

    private static Option<string> ManufacturerOption() =>
        new("--manufacturer") { Required = true, Description = "Name of the registered manufacturer" };

    private static Command Register()
    {
        var manufacturer = ManufacturerOption();
        var serials = new Argument<string[]>("serial") { Arity = ArgumentArity.OneOrMore, Description = "Device serials (= device ids)" };
        var command = new Command("register", "Register one or more device serials.") { manufacturer, serials };
        command.SetAction(async (parse, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<DeviceRegistration>()
                .RegisterAsync(parse.GetValue(manufacturer)!, parse.GetValue(serials)!, CliActor.Name, ct);
            return Report(result);
        });
        return command;
    }

    private static Command Import()
    {
        var manufacturer = ManufacturerOption();
        var file = new Argument<FileInfo>("csv") { Description = "CSV file: one serial per line (first column), optional 'serial' header" };
        var command = new Command("import", "Register the serials of a CSV file; bad rows are reported by line, good rows kept.") { manufacturer, file };
        command.SetAction(async (parse, ct) =>
        {
            var csv = parse.GetValue(file)!;
            if (!csv.Exists)
            {
                Console.Error.WriteLine($"error: {csv.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            using var reader = csv.OpenText();
            var result = await scope.ServiceProvider.GetRequiredService<DeviceRegistration>()
                .ImportCsvAsync(parse.GetValue(manufacturer)!, reader, CliActor.Name, ct);
            return Report(result);
        });
        return command;
    }

    private static Command List()
    {
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 100 };
        var command = new Command("list", "List devices.") { limit };
        command.SetAction(async (parse, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
            var devices = await db.Devices.AsNoTracking().OrderBy(d => d.Id).Take(parse.GetValue(limit))
                .Select(d => new { d.Id, d.State, Manufacturer = d.Manufacturer!.Name, d.EnrolledAt }).ToListAsync(ct);
            foreach (var d in devices)
            {
                Console.WriteLine($"{d.Id}\t{d.State}\t{d.Manufacturer}\t{d.EnrolledAt:u}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int Report(DeviceRegistration.ImportResult result)
    {
        foreach (var error in result.Errors)
        {
            Console.Error.WriteLine($"error: {error}");
        }
        Console.WriteLine($"{result.Added} registered, {result.AlreadyRegistered} already registered, {result.Errors.Count} rejected.");
        return result.Errors.Count == 0 ? ExitCodes.Ok : ExitCodes.PartlyImported;
    }
}
