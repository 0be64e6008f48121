using System.Security.Cryptography.X509Certificates;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using IotPki.Server.Hosting;
using IotPki.Server.Http;
using Microsoft.Extensions.Logging;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>The real server on loopback ports over a fresh database: one per test class.</summary>
public class ServerFixture : IAsyncLifetime
{
    public const string Passphrase = "test-passphrase-0123456789";

    private WebApplication? _app;

    public PostgresDatabase Database { get; private set; } = null!;
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("iotpki-test-").FullName;
    public Uri EstBase { get; private set; } = null!;
    public Uri OperatorBase { get; private set; } = null!;
    /// <summary>The plain-HTTP listener of CRL and OCSP.</summary>
    public Uri HttpBase { get; private set; } = null!;
    public int MqttPort { get; private set; }
    public string CaBundlePath => Path.Combine(DataDirectory, "pki", ServerTlsCertificate.CaBundleFile);
    public IServiceProvider Services => _app!.Services;
    public PkiState Pki => Services.GetRequiredService<PkiState>();
    public CertificateAuthority DemoManufacturer { get; private set; } = null!;

    /// <summary>What the server instances of this fixture logged, by category (for the behaviour only a log shows).</summary>
    public RecordingLoggerProvider Logs { get; } = new();

    /// <summary>Extra configuration of a test class (profiles, limits).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>The server's clock, when a test class moves time (the server's only: clients keep the real one).</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>The database the server runs on: a fresh one on the shared test cluster unless a class brings its own.</summary>
    protected virtual Task<PostgresDatabase> CreateDatabaseAsync() => Task.FromResult(new PostgresDatabase());

    public virtual async Task InitializeAsync()
    {
        Database = await CreateDatabaseAsync();
        await Database.InitializeAsync();
        _app = await StartServerAsync();
        var listeners = _app.Services.GetRequiredService<ListenerEndpoints>();
        EstBase = listeners.Uri(ListenerEndpoints.Est);
        OperatorBase = listeners.Uri(ListenerEndpoints.Operator);
        MqttPort = listeners.Get(ListenerEndpoints.Mqtt)!.Port;
        HttpBase = listeners.Uri(IotPki.Server.Revocation.RevocationListener.Name, "http");
        await using var scope = Services.CreateAsyncScope();
        DemoManufacturer = await ActivatorUtilities.CreateInstance<AuthorityStore>(scope.ServiceProvider)
            .LoadAsync(AuthorityRole.DemoManufacturer, CancellationToken.None);
    }

    /// <summary>Starts one more server instance on the same database (several instances share PostgreSQL);
    /// <paramref name="overrides"/> beat the fixture's settings (a restart on the ports the instance had).</summary>
    public async Task<WebApplication> StartServerAsync(string? dataDirectory = null, IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:IotPki"] = Database.ConnectionString,
            ["Ca:Passphrase"] = Passphrase,
            ["Ca:OfflineRootDirectory"] = Path.Combine(DataDirectory, "offline-root"),
            ["Pki:DataDirectory"] = Path.Combine(dataDirectory ?? DataDirectory, "pki"),
            ["Est:Port"] = "0",
            ["Est:BindAddress"] = "127.0.0.1",
            ["Operators:Port"] = "0",
            ["Operators:BindAddress"] = "127.0.0.1",
            ["Broker:Port"] = "0",
            ["Broker:BindAddress"] = "127.0.0.1",
            ["Pki:HttpPort"] = "0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Error",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "None",
            ["Jobs:Enabled"] = "false",
        };
        foreach (var (key, value) in Settings.Concat(overrides ?? new Dictionary<string, string?>()))
        {
            settings[key] = value;
        }
        var app = IotPkiServer.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Logging.AddProvider(Logs);
            if (Clock is { } clock)
            {
                b.Services.AddSingleton(clock);
            }
        });
        await IotPkiServer.StartAsync(app);
        await app.Services.GetRequiredService<IotPki.Server.Cluster.ClusterListener>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        return app;
    }

    public async Task RegisterAsync(params string[] serials)
    {
        await using var scope = Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<DeviceRegistration>()
            .RegisterAsync(AuthorityRole.DemoManufacturerName, serials, "test", CancellationToken.None);
        Assert.Empty(result.Errors);
    }

    public async Task<T> WithDbAsync<T>(Func<IotPkiDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>());
    }

    /// <summary>A scratch directory of the test class, under <see cref="DataDirectory"/> so it goes with the fixture.</summary>
    public string TempDirectory(string prefix) =>
        Directory.CreateDirectory(Path.Combine(DataDirectory, "tmp", prefix + Path.GetRandomFileName().Replace(".", "", StringComparison.Ordinal))).FullName;

    /// <summary>A bootstrap certificate (with key) from the demo manufacturer CA.</summary>
    public X509Certificate2 Bootstrap(string serial, TimeSpan? validFor = null, DateTimeOffset? notBefore = null) =>
        TestPki.Device(serial).SignedBy(DemoManufacturer).From(notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5))
            .ValidFor(validFor ?? TimeSpan.FromDays(1)).Build();

    public virtual async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        DemoManufacturer?.Dispose();
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}
