using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Outage;

/// <summary>The server process killed (SIGKILL) under enrollment load, twenty times, and started again each time:
/// every certificate a client received is in the database with its enrollment row, no device holds two first
/// certificates, and the restarted server serves on.</summary>
public sealed class ServerKillTests : IAsyncLifetime
{
    private const int Kills = 20;
    private readonly PostgresDatabase _database = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("iotpki-kill-").FullName;
    private readonly Dictionary<string, string> _environment = [];
    private int _estPort;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _estPort = FreePort.Pick();
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ConnectionStrings__IotPki"] = _database.ConnectionString,
            ["Ca__Passphrase"] = ServerFixture.Passphrase,
            ["Ca__OfflineRootDirectory"] = Path.Combine(_directory, "offline-root"),
            ["Pki__DataDirectory"] = Path.Combine(_directory, "pki"),
            ["Est__Port"] = _estPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Est__BindAddress"] = "127.0.0.1",
            ["Operators__Port"] = "0",
            ["Operators__BindAddress"] = "127.0.0.1",
            ["Broker__Port"] = "0",
            ["Broker__BindAddress"] = "127.0.0.1",
            ["Pki__HttpPort"] = "0",
            ["Jobs__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
        })
        {
            _environment[key] = value;
        }
    }

    [Fact]
    public async Task Killed_twenty_times_under_load_every_certificate_received_is_committed_and_the_server_serves_on()
    {
        using var manufacturer = TestPki.NewCa("Kill Test Manufacturer");
        await File.WriteAllTextAsync(Path.Combine(_directory, "maker.pem"), manufacturer.CertificatePem);
        var ids = Enumerable.Range(0, 2000).Select(i => $"kill-{i:D4}").ToArray();
        await File.WriteAllLinesAsync(Path.Combine(_directory, "serials.csv"), ["serial", .. ids]);
        var server = await StartAsync();
        await CliAsync("manufacturer", "add", "--name", "kill-maker", "--ca", Path.Combine(_directory, "maker.pem"));
        await CliAsync("device", "import", "--manufacturer", "kill-maker", Path.Combine(_directory, "serials.csv"));
        var pending = new ConcurrentQueue<string>(ids);
        var received = new ConcurrentDictionary<string, string>();
        var failures = new ConcurrentBag<string>();

        for (var kill = 0; kill < Kills; kill++)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(1500)));
            var load = Enumerable.Range(0, 4).Select(_ => EnrollAsync(manufacturer, pending, received, failures, stop.Token)).ToList();
            await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            server.Kill();  // SIGKILL: no shutdown, requests in flight cut off
            await server.WaitForExitAsync();
            await Task.WhenAll(load);
            server.Dispose();
            server = await StartAsync();
        }

        Assert.True(failures.IsEmpty, string.Join("; ", failures.Take(5)));
        Assert.True(received.Count >= Kills, $"only {received.Count} enrollments got through in {Kills} rounds");
        foreach (var (id, serial) in received)
        {
            Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM certificates WHERE \"Serial\" = $1 AND \"DeviceId\" = $2", serial, id));
        }
        Assert.Equal(0L, await _database.ScalarAsync<long>("""
            SELECT count(*) FROM certificates c WHERE c."Kind" = 'operational'
              AND NOT EXISTS (SELECT 1 FROM enrollment_attempts a WHERE a."IssuedSerial" = c."Serial" AND a."Outcome" = 'issued')
            """));
        Assert.Equal(0L, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT \"DeviceId\" FROM certificates WHERE \"Kind\" = 'operational' GROUP BY 1 HAVING count(*) > 1) twice"));
        using (var ready = await Est(null).GetAsync($"https://localhost:{_estPort}/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        server.Kill();
        await server.WaitForExitAsync();
        server.Dispose();
    }

    /// <summary>First enrollments, one device after another, until stopped. A request cut off by the kill leaves the
    /// client with nothing (whether or not the server had committed): only what a client received is checked.</summary>
    private async Task EnrollAsync(CertificateAuthority manufacturer, ConcurrentQueue<string> pending, ConcurrentDictionary<string, string> received,
        ConcurrentBag<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && pending.TryDequeue(out var id))
        {
            using var bootstrap = TestPki.Device(id).SignedBy(manufacturer).From(DateTimeOffset.UtcNow.AddMinutes(-5)).ValidFor(TimeSpan.FromDays(1)).Build();
            using var est = Est(bootstrap);
            var (_, csr) = TestPki.Csr(id);
            try
            {
                using var content = new StringContent(csr);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pkcs10");
                using var response = await est.PostAsync($"https://localhost:{_estPort}/.well-known/est/simpleenroll", content, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var certificates = CertsOnlyPkcs7.DecodeBase64(await response.Content.ReadAsStringAsync());
                    received[id] = CertificateIdentifiers.Serial(certificates.Single());
                    certificates.ForEach(c => c.Dispose());
                }
                else if ((int)response.StatusCode >= 500 && response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    failures.Add($"{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                // Cut off by the kill: the answer never arrived, so the client holds nothing.
            }
        }
    }

    private HttpClient Est(System.Security.Cryptography.X509Certificates.X509Certificate2? client)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, _, _, _) => true,  // loopback, our own server; what is checked here is the database
                ClientCertificates = client is null ? null : [client],
                LocalCertificateSelectionCallback = client is null ? null : (_, _, _, _, _) => client,
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
    }

    private async Task<Process> StartAsync()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "IotPki.Server.dll"));
        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }
        var process = Process.Start(info)!;
        // The server's last 40 lines: what a start that never becomes ready said.
        var said = new ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            said.Enqueue(line);
            while (said.Count > 40 && said.TryDequeue(out _))
            {
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = Est(null);
        // Up to two minutes: a start while the full suite loads both cores took longer than the 30 s this once allowed.
        // A probe that gets no answer within 5 s is asked again, as one refused is.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        var lastProbe = "no probe answered";
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "the server exited on start: " + string.Join(" | ", said));
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var ready = await probe.GetAsync($"https://localhost:{_estPort}/readyz", attempt.Token);
                if (ready.StatusCode == HttpStatusCode.OK)
                {
                    return process;
                }
                lastProbe = $"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastProbe = e.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server did not become ready: {lastProbe}; it said: {string.Join(" | ", said)}");
    }

    private async Task CliAsync(params string[] args)
    {
        var result = await ServerCli.RunAsync(args, _directory, _environment, TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
