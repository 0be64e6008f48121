using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Hosting;

/// <summary>docker-compose.yml as Compose itself reads it (no Docker engine runs here): PostgreSQL and two server
/// instances on the image's own entry point, a health check the image can run, secrets the non-root server user can
/// read, a public host name the operator must give, and a first admin certificate.</summary>
public sealed class DockerComposeTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly string ComposeFile = Path.Combine(RepositoryPaths.Root, "docker-compose.yml");

    [Fact]
    public async Task Compose_reads_the_file_as_two_server_instances_on_one_database_named_by_the_public_host()
    {
        var config = await ComposeAsync(new() { ["IOTPKI_PUBLIC_HOST"] = "pki.example.com" }, "config");
        var services = await ComposeAsync(new() { ["IOTPKI_PUBLIC_HOST"] = "pki.example.com" }, "config", "--services");

        Assert.True(config.ExitCode == 0, config.Stderr);
        Assert.Equal(["admin-certificate", "postgres", "secrets", "server-a", "server-b"],
            services.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        Assert.Contains("Pki__PublicBaseUrl: http://pki.example.com:8080", config.Stdout);
        Assert.Contains("Pki__ServerHostNames__0: pki.example.com", config.Stdout);
        Assert.DoesNotContain("localhost", config.Stdout);
        Assert.DoesNotContain("curl", config.Stdout);
        // Both instances check themselves with the server binary; neither overrides the image's entry point.
        Assert.Equal(2, Count(config.Stdout, "- IotPki.Server.dll\n      - health"));
        Assert.Contains("install -o app -g app -m 0600 /run/secrets/ca_passphrase", config.Stdout);
        Assert.Contains("operator add admin --role", config.Stdout);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"IotPki.Server.dll\"]", await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "server", "Dockerfile")));
    }

    [Fact]
    public async Task Without_a_public_host_name_compose_refuses_and_says_which_variable_to_set()
    {
        var config = await ComposeAsync([], "config");

        Assert.NotEqual(0, config.ExitCode);
        Assert.Contains("set IOTPKI_PUBLIC_HOST", config.Stderr);
    }

    [Fact]
    public async Task The_health_subcommand_passes_on_a_ready_server_and_fails_on_a_closed_port()
    {
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();

        var ready = await ServerCli.RunAsync(["health", "--port", server.EstBase.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var down = await ServerCli.RunAsync(["health", "--port", closedPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        Assert.True(ready.ExitCode == 0, ready.Stderr);
        Assert.Equal(1, down.ExitCode);
        Assert.StartsWith("error: no answer on port", down.Stderr);
    }

    [Fact]
    public async Task Compose_secrets_are_made_once_with_mode_0600()
    {
        var directory = server.TempDirectory("compose-secrets-");
        File.Copy(Path.Combine(RepositoryPaths.Root, "iotpki"), Path.Combine(directory, "iotpki"));
        File.SetUnixFileMode(Path.Combine(directory, "iotpki"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var first = await ChildProcess.RunAsync(Path.Combine(directory, "iotpki"), ["compose-secrets"], directory);
        var passphrase = await File.ReadAllTextAsync(Path.Combine(directory, "secrets", "ca-passphrase"));
        var again = await ChildProcess.RunAsync(Path.Combine(directory, "iotpki"), ["compose-secrets"], directory);

        Assert.True(first.ExitCode == 0 && again.ExitCode == 0, first.Stderr + again.Stderr);
        Assert.Equal(passphrase, await File.ReadAllTextAsync(Path.Combine(directory, "secrets", "ca-passphrase")));
        Assert.True(passphrase.Length >= 32);
        foreach (var name in new[] { "ca-passphrase", "pg-password", "pgpass" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "secrets", name)));
        }
        var password = await File.ReadAllTextAsync(Path.Combine(directory, "secrets", "pg-password"));
        Assert.Equal($"postgres:5432:iotpki:iotpki:{password}\n", await File.ReadAllTextAsync(Path.Combine(directory, "secrets", "pgpass")));
    }

    private static Task<ChildProcess.Result> ComposeAsync(Dictionary<string, string> environment, params string[] args)
    {
        // An unset variable must stay unset for the child, whatever this process has.
        environment.TryAdd("IOTPKI_PUBLIC_HOST", "");
        return ChildProcess.RunAsync("docker-compose", ["-f", ComposeFile, .. args], RepositoryPaths.Root, environment: environment);
    }

    private static int Count(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}
