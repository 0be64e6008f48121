using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Hosting;

/// <summary>The server binary's commands on a database nobody has initialized yet (no <c>./iotpki init</c> or
/// <c>up</c>): one line that says what to run, exit 1, no EF Core stack trace; then <c>init</c> and the same command
/// works.</summary>
public sealed class CliBeforeInitTests : IAsyncLifetime
{
    private const string NotSetUp = "error: the database is not set up for this version of IotPki: run ./iotpki init (or ./iotpki up) first";

    private readonly PostgresDatabase _database = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("iotpki-cli-before-init-").FullName;

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData("ca", "show")]
    [InlineData("ca", "rollover")]
    [InlineData("device", "register", "--manufacturer", "acme", "sn-0001")]
    public async Task A_command_before_init_says_in_one_line_to_run_init(params string[] command)
    {
        var result = await RunAsync(command);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(NotSetUp, result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stdout);
    }

    [Fact]
    public async Task After_init_ca_show_lists_the_CAs()
    {
        var init = await RunAsync("init");
        var show = await RunAsync("ca", "show");

        Assert.True(init.ExitCode == 0, init.Stderr);
        Assert.True(show.ExitCode == 0, show.Stderr);
        var roles = show.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t')[0]);
        Assert.Equal(["demo-manufacturer", "issuing", "root"], roles.Order());
    }

    private Task<ChildProcess.Result> RunAsync(params string[] args) =>
        ServerCli.RunAsync(args, _directory,
            timeout: TimeSpan.FromMinutes(2),
            environment: new Dictionary<string, string>
            {
                ["ConnectionStrings__IotPki"] = _database.ConnectionString,
                ["Ca__Passphrase"] = ServerFixture.Passphrase,
                ["Ca__OfflineRootDirectory"] = Path.Combine(_directory, "offline-root"),
                ["Pki__DataDirectory"] = Path.Combine(_directory, "pki"),
            });
}
