using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace IotPki.Server.Cli;

/// <summary><c>ca show|rollover|retire-expired|root-offline</c>: the commands that may open the root key (a running server never does).</summary>
public static class CaCommands
{
    public static Command Create()
    {
        var command = new Command("ca", "Show the CAs, roll over the issuing CA, retire issuing CAs whose certificates have all expired, move a root key out of the database.");
        command.Add(Show());
        command.Add(Rollover());
        command.Add(RetireExpired());
        command.Add(RootOffline());
        return command;
    }

    private static Command RootOffline()
    {
        var command = new Command("root-offline", "Move a root key kept in the database (by a version before the offline root) to an encrypted file in Ca:OfflineRootDirectory.");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var path = await scope.ServiceProvider.GetRequiredService<OfflineRoot>().MoveOutOfDatabaseAsync(CliActor.Name, ct);
            Console.WriteLine(path is null
                ? "The root key is not in the database: nothing to move."
                : $"Root key moved to {path} (0600, still encrypted with the CA passphrase). Carry it off this machine: see docs/ca-keys.md.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var command = new Command("show", "List the CAs: role, subject, validity, key store, state.");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IotPkiDbContext>();
            var records = await db.Authorities.AsNoTracking().OrderBy(a => a.CreatedAt).ToListAsync(ct);
            if (records.Count == 0)
            {
                Console.Error.WriteLine("error: there are no CAs yet: start the server once (./iotpki up) to initialize the PKI");
                return ExitCodes.Failed;
            }
            foreach (var record in records)
            {
                using var certificate = X509Certificate2.CreateFromPem(record.CertificatePem);
                var state = record.RetiredAt is { } retired ? $"retired {retired:u}"
                    : record.Active ? "active (signs new certificates)"
                    : AuthorityRole.IsIssuing(record.Role) ? "previous (CRL and OCSP until its last certificate expires)" : "";
                Console.WriteLine($"{record.Role}\t{certificate.Subject}\tkey id {CertificateIdentifiers.SubjectKeyId(certificate)}\t" +
                    $"valid {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}\tkey: {CaKeyStores.KindOf(record.KeyReference)}\t{state}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rollover()
    {
        var command = new Command("rollover",
            "Create a new issuing CA under the root (opens the root key) and issue from it; the current one stays published until its last certificate expires.");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            await using var scope = host.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync(CliActor.Name, ct);
            Console.WriteLine($"Issuing CA rolled over: {result.Previous} -> {result.Current} ({result.Subject}, key in the {result.KeyStore} store).");
            Console.WriteLine(result.PreviousInUseUntil is { } until
                ? $"{result.Previous} stays published (cacerts, CRL, OCSP) until its last certificate expires at {until:u}; devices move to {result.Current} as they renew."
                : $"{result.Previous} signed no certificate: it is retired at the next check.");
            Console.WriteLine(result.Lagging.Count == 0
                ? $"{result.Instances} running server instance(s) sign with {result.Current}."
                : $"warning: {result.Lagging.Count} of {result.Instances} running instance(s) still sign with {result.Previous} after {IssuingCaRollover.SwitchPatience.TotalSeconds:0} s: {string.Join(", ", result.Lagging)}; they switch when they reload (check their logs).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RetireExpired()
    {
        var command = new Command("retire-expired", "Retire now every earlier issuing CA whose certificates have all expired (servers also check hourly).");
        command.SetAction(async (_, ct) =>
        {
            using var host = CliHost.Build();
            var retired = await host.Services.GetRequiredService<IssuingCaRetirement>().RetireExpiredAsync(DateTimeOffset.UtcNow, ct);
            Console.WriteLine(retired.Count == 0 ? "No issuing CA to retire." : $"Retired: {string.Join(", ", retired)}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
