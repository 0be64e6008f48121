using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using IotPki.Agent;
using IotPki.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace IotPki.Agent.Tests.Infrastructure;

/// <summary>One device for the agent: a registered serial, its bootstrap certificate and key on disk, a state directory,
/// and the options that point the agent at the test server.</summary>
public sealed class AgentHarness : IDisposable
{
    private AgentHarness(ServerFixture server, string deviceId, string directory)
    {
        Server = server;
        DeviceId = deviceId;
        Directory = directory;
    }

    public ServerFixture Server { get; }
    public string DeviceId { get; }
    public string Directory { get; }
    public string StateDirectory => Path.Combine(Directory, "state");
    public string BootstrapCertificatePath => Path.Combine(Directory, "bootstrap.crt");
    public string BootstrapKeyPath => Path.Combine(Directory, "bootstrap.key");
    public CapturingLogger Log { get; } = new();

    /// <param name="bootstrapSubject">The bootstrap certificate's subject as the manufacturer wrote it; by default <c>CN=&lt;deviceId&gt;</c>.</param>
    public static async Task<AgentHarness> CreateAsync(ServerFixture server, string deviceId, string? bootstrapSubject = null)
    {
        await server.RegisterAsync(deviceId);
        var harness = new AgentHarness(server, deviceId, System.IO.Directory.CreateTempSubdirectory("iotpki-agent-").FullName);
        using var bootstrap = bootstrapSubject is null ? server.Bootstrap(deviceId)
            : TestPki.Device(deviceId).SignedBy(server.DemoManufacturer).WithSubject(bootstrapSubject).Build();
        TestPki.WritePem(bootstrap, harness.BootstrapCertificatePath, harness.BootstrapKeyPath);
        return harness;
    }

    public AgentOptions Options(double renewalFraction = 2.0 / 3.0, bool broker = false) => new()
    {
        EstUrl = Server.EstBase,
        BrokerUrl = broker ? new Uri($"mqtts://127.0.0.1:{Server.MqttPort}") : null,
        TrustBundlePath = Server.CaBundlePath,
        BootstrapCertificatePath = BootstrapCertificatePath,
        BootstrapKeyPath = BootstrapKeyPath,
        StateDirectory = StateDirectory,
        RenewalFraction = renewalFraction,
        RenewalJitter = 0,
        BackoffInitial = TimeSpan.FromMilliseconds(100),
        BackoffMax = TimeSpan.FromSeconds(2),
    };

    /// <summary>The agent's config file for the executable.</summary>
    public string WriteConfig(double renewalFraction, bool broker = false)
    {
        var path = Path.Combine(Directory, "agent.json");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["BrokerUrl"] = broker ? $"mqtts://127.0.0.1:{Server.MqttPort}" : "",
            ["EstUrl"] = Server.EstBase.ToString(),
            ["TrustBundlePath"] = Server.CaBundlePath,
            ["BootstrapCertificatePath"] = "bootstrap.crt",
            ["BootstrapKeyPath"] = "bootstrap.key",
            ["StateDirectory"] = "state",
            ["RenewalFraction"] = renewalFraction,
            ["RenewalJitter"] = 0,
            ["BackoffInitial"] = "00:00:00.100",
            ["BackoffMax"] = "00:00:02",
        }));
        return path;
    }

    public DeviceAgent NewAgent(AgentOptions options, Action<string>? checkpoint = null, TimeProvider? clock = null) =>
        new(options, Log, clock, checkpoint: checkpoint);

    /// <summary>Runs the agent until it holds a proven identity other than <paramref name="notSerial"/>; returns its serial.</summary>
    public async Task<string> RunUntilReadyAsync(AgentOptions options, string? notSerial = null, TimeSpan? timeout = null, TimeProvider? clock = null)
    {
        var agent = NewAgent(options, clock: clock);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        agent.IdentityReady += serial =>
        {
            if (serial != notSerial)
            {
                ready.TrySetResult(serial);
            }
        };
        using var stop = new CancellationTokenSource();
        var run = agent.RunAsync(stop.Token);
        var finished = await Task.WhenAny(ready.Task, run, Task.Delay(timeout ?? TimeSpan.FromSeconds(60)));
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
        }
        Assert.True(finished == ready.Task, $"The agent did not become ready. Log:\n{Log}");
        return await ready.Task;
    }

    /// <summary>Recovers the state directory as a restarting agent would and checks its current identity is usable:
    /// key matches certificate, certificate valid now and chaining to the trust bundle.</summary>
    public DeviceIdentity AssertUsableIdentity()
    {
        var store = new IdentityStore(StateDirectory, Log);
        store.Recover();
        var identity = store.LoadCurrent();
        Assert.True(identity is not null, $"No current identity after recovery. Log:\n{Log}");
        Assert.True(identity.KeyMatchesCertificate());
        Assert.Equal(DeviceId, identity.DeviceId.Value);
        Assert.True(TrustBundle.Load(Server.CaBundlePath).Verifies(identity.Certificate, identity.Chain, DateTimeOffset.UtcNow),
            $"Certificate {identity.Serial} does not verify");
        Assert.Equal(IotPki.Pki.ChainVerdict.Valid,
            IotPki.Pki.ChainValidator.Validate(identity.Certificate, Server.Pki.Root, [Server.Pki.Issuing], DateTimeOffset.UtcNow));
        if (store.LoadPending() is { } pending)
        {
            using (pending)
            {
                Assert.True(pending.KeyMatchesCertificate());
            }
        }
        return identity;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Keeps the agent's log lines so tests can assert on what it said.</summary>
public sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel}: {formatter(state, exception)}");

    public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.OrdinalIgnoreCase));

    public override string ToString() => string.Join('\n', _lines.TakeLast(40));
}

/// <summary>A server whose operational certificates live three minutes: rotation by schedule without a fake clock.</summary>
public sealed class ShortLivedServerFixture : ServerFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Pki:OperationalLifetime"] = "00:03:00",
    };
}
