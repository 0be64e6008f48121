using Npgsql;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>A PostgreSQL cluster of one test class's own, so the class can stop and start it (an outage) without
/// touching the cluster every other class shares. Loopback only, trust authentication, deleted afterwards.</summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;
    private readonly bool _asPostgres = Environment.UserName == "root";

    public int Port { get; }
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=iotpki;Database=postgres;Timeout=5";

    private PrivateCluster(string directory, string bin, int port) => (_directory, _bin, Port) = (directory, bin, port);

    public static async Task<PrivateCluster> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin"))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "pg_ctl"))) ?? throw new InvalidOperationException("PostgreSQL binaries not found");
        var directory = Directory.CreateTempSubdirectory("iotpki-cluster-").FullName;
        var cluster = new PrivateCluster(directory, bin, Infrastructure.FreePort.Pick());
        if (cluster._asPostgres)
        {
            await cluster.RunAsync("chown", ["postgres:postgres", directory], asPostgres: false);
        }
        await cluster.RunAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(directory, "data"), "-U", "iotpki", "--auth=trust", "-E", "UTF8", "--no-instructions"]);
        await cluster.StartAgainAsync();
        return cluster;
    }

    /// <summary>Starts the cluster (again) on the same port.</summary>
    public Task StartAgainAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "log"), "-w", "-t", "60",
        "start", "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c max_connections=200"]);

    /// <summary>A crash-like stop: every backend killed, no checkpoint (recovery replays the WAL on the next start).</summary>
    public Task StopImmediatelyAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);

    private async Task RunAsync(string file, string[] args, bool asPostgres = true)
    {
        var result = asPostgres && _asPostgres
            ? await ChildProcess.RunAsync("runuser", ["-u", "postgres", "--", file, .. args], _directory, TimeSpan.FromSeconds(120))
            : await ChildProcess.RunAsync(file, args, _directory, TimeSpan.FromSeconds(120));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed: {result.Stderr}{result.Stdout}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try { await StopImmediatelyAsync(); } catch (InvalidOperationException) { }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
