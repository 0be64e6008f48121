using System.CommandLine;
using System.Security.Cryptography;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Operators;

namespace IotPki.Server.Cli;

/// <summary><c>operator add NAME --role admin|viewer --out DIR</c> and <c>service add NAME --out DIR</c>: a client
/// certificate for the operator API (or a back-end service), as PEM and PKCS#12.</summary>
public static class OperatorCommand
{
    public static Command Create(CertificateKind kind)
    {
        var isOperator = kind == CertificateKind.Operator;
        var name = new Argument<string>("name") { Description = isOperator ? "Operator name" : "Service name" };
        var role = new Option<string>("--role") { DefaultValueFactory = _ => OperatorRole.Viewer, Description = "admin or viewer" };
        var output = new Option<DirectoryInfo>("--out") { Required = true, Description = "Directory for NAME.pem, NAME.key, NAME.p12 and NAME.p12.pass" };
        var add = new Command("add", isOperator ? "Issue an operator certificate." : "Issue a service certificate.") { name, output };
        if (isOperator)
        {
            add.Add(role);
        }
        add.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(name)!;
            var dir = parse.GetValue(output)!.FullName;
            using var host = CliHost.Build();
            await host.Services.GetRequiredService<PkiInitializer>().InitializeAsync(ct);
            await using var scope = host.Services.CreateAsyncScope();
            var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var issued = await scope.ServiceProvider.GetRequiredService<OperatorCertificates>()
                .IssueAsync(kind, n, isOperator ? parse.GetValue(role) : null, password, CliActor.Name, ct);
            AtomicFile.WriteText(Path.Combine(dir, $"{n}.key"), issued.KeyPem, secret: true);
            AtomicFile.WriteText(Path.Combine(dir, $"{n}.pem"), issued.CertificatePem, secret: false);
            AtomicFile.WriteText(Path.Combine(dir, $"{n}.p12.pass"), password + "\n", secret: true);
            AtomicFile.Write(Path.Combine(dir, $"{n}.p12"), issued.Pkcs12, secret: true);
            Console.WriteLine($"Issued {(isOperator ? "operator" : "service")} certificate {issued.Serial} for {n}: {Path.Combine(dir, n)}.pem/.key/.p12 (password in {n}.p12.pass)");
            return ExitCodes.Ok;
        });
        var command = new Command(isOperator ? "operator" : "service", isOperator ? "Operator certificates." : "Service certificates.") { add };
        return command;
    }
}
