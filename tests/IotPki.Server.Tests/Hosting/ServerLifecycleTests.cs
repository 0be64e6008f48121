using System.Net;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Hosting;

public sealed class ServerLifecycleTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Healthz_and_readyz_answer_200()
    {
        using var client = EstClient.Create(server);
        using var health = await client.GetAsync("/healthz");
        using var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task A_second_instance_on_the_same_database_uses_the_same_CAs()
    {
        var otherData = server.TempDirectory("iotpki-second-");
        await using var second = await server.StartServerAsync(otherData);
        var secondPki = second.Services.GetRequiredService<IotPki.Server.Ca.PkiState>();

        Assert.Equal(server.Pki.Root.Thumbprint, secondPki.Root.Thumbprint);
        Assert.Equal(server.Pki.Issuing.Thumbprint, secondPki.Issuing.Thumbprint);
        Assert.Equal(3L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM authorities"));
        await second.StopAsync();
    }

    [Fact]
    public async Task The_issuing_key_is_stored_encrypted_and_the_root_key_is_an_offline_file_not_in_the_database()
    {
        var issuing = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'issuing'");
        var root = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'root'");

        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", issuing);
        Assert.StartsWith("file:", root);
        var rootFile = root["file:".Length..];
        Assert.StartsWith(Path.Combine(server.DataDirectory, "offline-root") + "/", rootFile);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(rootFile));
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", await File.ReadAllTextAsync(rootFile));
        using var rootKey = IotPki.Pki.EncryptedKeyPem.Import(await File.ReadAllTextAsync(rootFile), ServerFixture.Passphrase);
        using var rootPublic = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPublicKey(server.Pki.Root)!;
        Assert.Equal(rootPublic.ExportSubjectPublicKeyInfo(), rootKey.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public async Task The_server_TLS_key_file_is_readable_by_its_owner_only()
    {
        var mode = File.GetUnixFileMode(Path.Combine(server.DataDirectory, "pki", "server.key"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_wrong_CA_passphrase_stops_startup_with_a_clear_error()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:IotPki"] = server.Database.ConnectionString,
            ["Ca:Passphrase"] = "a-wrong-passphrase-123",
            ["Pki:DataDirectory"] = server.TempDirectory("scratch-"),
            ["Est:Port"] = "0",
            ["Est:BindAddress"] = "127.0.0.1",
            ["Operators:Port"] = "0",
            ["Logging:LogLevel:Default"] = "None",
        };
        await using var app = IotPki.Server.Hosting.IotPkiServer.Build([], b => b.Configuration.AddInMemoryCollection(settings));

        var e = await Assert.ThrowsAsync<System.Security.Cryptography.CryptographicException>(() =>
            IotPki.Server.Hosting.IotPkiServer.StartAsync(app));

        Assert.Contains("passphrase", e.Message);
    }

    [Fact]
    public async Task The_server_binary_registers_manufacturers_and_serials_from_the_command_line()
    {
        var dir = server.TempDirectory("iotpki-cli-");
        using var ca = TestPki.NewCa("Cli Manufacturer CA");
        await File.WriteAllTextAsync(Path.Combine(dir, "ca.pem"), ca.CertificatePem);
        await File.WriteAllTextAsync(Path.Combine(dir, "serials.csv"), "serial\ncli-0001\nnot valid\ncli-0002\n");
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__IotPki"] = server.Database.ConnectionString,
            ["IOTPKI_CA_PASSPHRASE"] = ServerFixture.Passphrase,
            ["Pki__DataDirectory"] = Path.Combine(dir, "pki"),
        };

        var add = await ServerCli.RunAsync(["manufacturer", "add", "--name", "cli-maker", "--ca", "ca.pem"], dir, env);
        var import = await ServerCli.RunAsync(["device", "import", "--manufacturer", "cli-maker", "serials.csv"], dir, env);
        var unknown = await ServerCli.RunAsync(["device", "register", "--manufacturer", "nobody", "x-001"], dir, env);

        Assert.True(add.ExitCode == 0, add.Stderr);
        Assert.Equal(3, import.ExitCode);
        Assert.Contains("line 3:", import.Stderr);
        Assert.Contains("2 registered", import.Stdout);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Single(unknown.Stderr.Trim().Split('\n'));
        Assert.Equal(2L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'cli-%'"));
    }
}
