using System.CommandLine;
using System.Security.Cryptography;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Fleet;

namespace IotPki.Server.Cli;

/// <summary><c>bootstrap SERIAL --out DIR</c>: mint a demo bootstrap key and certificate from the demo manufacturer CA,
/// as a factory would, and register the serial.</summary>
public static class BootstrapCommand
{
    public static Command Create()
    {
        var serial = new Argument<string>("serial") { Description = "Device serial (= device id)" };
        var output = new Option<DirectoryInfo>("--out") { Required = true, Description = "Directory for boot.pem and boot.key" };
        var days = new Option<int>("--days") { DefaultValueFactory = _ => 3650, Description = "Validity in days" };
        var noRegister = new Option<bool>("--no-register") { Description = "Do not register the serial" };
        var command = new Command("bootstrap", "Mint a demo bootstrap certificate (demo manufacturer CA) and register its serial.")
            { serial, output, days, noRegister };
        command.SetAction(async (parse, ct) =>
        {
            if (!DeviceId.TryParse(parse.GetValue(serial), out var deviceId))
            {
                Console.Error.WriteLine($"error: '{parse.GetValue(serial)}' is not a valid serial: use [a-z0-9][a-z0-9._-]{{2,63}}");
                return ExitCodes.BadInput;
            }
            using var host = CliHost.Build();
            await host.Services.GetRequiredService<PkiInitializer>().InitializeAsync(ct);
            await using var scope = host.Services.CreateAsyncScope();
            var store = ActivatorUtilities.CreateInstance<AuthorityStore>(scope.ServiceProvider);
            using var ca = await store.LoadAsync(AuthorityRole.DemoManufacturer, ct);

            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var now = DateTimeOffset.UtcNow;
            using var certificate = BootstrapIssuer.Issue(ca, deviceId, key, now.AddMinutes(-5), now.AddDays(parse.GetValue(days)));
            var dir = parse.GetValue(output)!;
            AtomicFile.WriteText(Path.Combine(dir.FullName, "boot.key"), key.ExportPkcs8PrivateKeyPem(), secret: true);
            AtomicFile.WriteText(Path.Combine(dir.FullName, "boot.pem"), certificate.ExportCertificatePem() + "\n", secret: false);

            if (!parse.GetValue(noRegister))
            {
                var result = await scope.ServiceProvider.GetRequiredService<DeviceRegistration>()
                    .RegisterAsync(AuthorityRole.DemoManufacturerName, [deviceId.Value], CliActor.Name, ct);
                if (result.Errors.Count > 0)
                {
                    Console.Error.WriteLine($"error: {result.Errors[0]}");
                    return ExitCodes.Failed;
                }
            }
            Console.WriteLine($"Bootstrap certificate for {deviceId}: {Path.Combine(dir.FullName, "boot.pem")} (key boot.key, mode 0600)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
