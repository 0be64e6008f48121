using System.Collections.Concurrent;
using System.Globalization;

namespace IotPki.FirmwareSim;

/// <summary>The faults a fleet run injects, each with a rate, and where the operator API is (a stolen device is
/// revoked through it; a clone's refusal is looked up in its audit log).</summary>
public sealed record FleetFaults
{
    /// <summary>Fraction of rotations during which the device loses power at a random step, then reboots.</summary>
    public double PowerLoss { get; init; }

    /// <summary>Fraction of live broker connections cut at once (a reconnect storm), every <see cref="StormInterval"/>.</summary>
    public double NetworkDrop { get; init; }

    public TimeSpan StormInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Fraction of devices whose clock is off by up to ±10 minutes.</summary>
    public double ClockSkew { get; init; }

    /// <summary>Fraction of devices whose bootstrap certificate and key are copied into a second device.</summary>
    public double Clones { get; init; }

    /// <summary>Fraction of devices stolen: an operator revokes each once it is connected.</summary>
    public double Stolen { get; init; }

    /// <summary>A server instance killed once, a third into the run, and restarted once its devices are elsewhere.</summary>
    public ServerKill? Kill { get; init; }

    public OperatorApi? Api { get; init; }

    public int Seed { get; init; } = 1;

    public bool Any => PowerLoss > 0 || NetworkDrop > 0 || ClockSkew > 0 || Clones > 0 || Stolen > 0 || Kill is not null;

    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(10);

    /// <summary>Whether the fault picked by <paramref name="salt"/> hits this device: deterministic by seed and id.</summary>
    public bool Hits(string deviceId, string salt, double rate) => rate > 0 && Unit(deviceId, salt) < rate;

    /// <summary>A value in [0, 1) fixed by the seed, the device and the fault.</summary>
    public double Unit(string deviceId, string salt)
    {
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{Seed}/{salt}/{deviceId}"));
        return (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(digest) >> 11) * (1.0 / (1UL << 53));
    }

    public TimeSpan SkewOf(string deviceId) =>
        TimeSpan.FromSeconds((Unit(deviceId, "skew-amount") * 2 - 1) * MaxSkew.TotalSeconds);
}

/// <summary>How to kill server instance <paramref name="Server"/> (an index into the run's servers) and start it again
/// on the same addresses: a process killed with SIGKILL by the command line, an app stopped in a test.</summary>
public sealed record ServerKill(int Server, Func<CancellationToken, Task> KillAsync, Func<CancellationToken, Task> RestartAsync);

/// <summary>The operator API the fault injector acts through, with an admin certificate.</summary>
public sealed record OperatorApi(Uri BaseAddress, System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate);

/// <summary>Each fault injected, and each outcome the system must show for it, counted; revocation latencies.</summary>
public sealed class FaultLedger
{
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public ConcurrentBag<double> RevocationCloseMs { get; } = [];

    public void Count(string what, long by = 1) => _counts.AddOrUpdate(what, by, (_, n) => n + by);

    public long this[string what] => _counts.TryGetValue(what, out var n) ? n : 0;

    public IReadOnlyDictionary<string, long> Snapshot() => _counts.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value);

    public string Line() => string.Join(' ', Snapshot().Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")));
}
