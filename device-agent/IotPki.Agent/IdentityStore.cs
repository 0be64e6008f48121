using System.Security.Cryptography;
using IotPki.Identity;
using Microsoft.Extensions.Logging;

namespace IotPki.Agent;

/// <summary>The state directory: each identity in <c>identities/&lt;serial&gt;/</c> (key.pem 0600, cert.pem, chain.pem),
/// and two pointer files, <c>current</c> and <c>pending</c>, each naming one identity.
/// <para>Every file is written temp + fsync + rename + directory fsync. A new identity is written completely before
/// <c>pending</c> names it; <c>current</c> switches to it (one atomic rename) only after it has been proven; the old
/// identity is deleted only after that. So after a power cut at any instant, <c>current</c> names a complete identity
/// (or none before the first enrollment) and <see cref="Recover"/> removes whatever a cut interrupted.</para></summary>
public sealed class IdentityStore
{
    public const string KeyFile = "key.pem";
    public const string CertificateFile = "cert.pem";
    public const string ChainFile = "chain.pem";
    public const string CurrentPointer = "current";
    public const string PendingPointer = "pending";
    private const string IdentitiesDirectory = "identities";

    private readonly string _root;
    private readonly ILogger _logger;
    private readonly Action<string>? _checkpoint;
    private DeviceIdentity? _current;

    public IdentityStore(string root, ILogger logger, Action<string>? checkpoint = null)
    {
        _root = Path.GetFullPath(root);
        _logger = logger;
        _checkpoint = checkpoint;
    }

    public string Root => _root;

    public string IdentityDirectory(string serial) => Path.Combine(_root, IdentitiesDirectory, serial);

    /// <summary>Makes the directory consistent after a crash: temp files go, a pending pointer to an incomplete or
    /// already-current identity goes, identities no pointer names go.</summary>
    public void Recover()
    {
        Directory.CreateDirectory(Path.Combine(_root, IdentitiesDirectory));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        foreach (var temp in Directory.EnumerateFiles(_root, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories))
        {
            File.Delete(temp);
        }

        var current = ReadPointer(CurrentPointer);
        if (current is not null && !IsComplete(current))
        {
            // Cannot happen when the disk keeps what fsync promised; say so rather than pretend.
            _logger.LogError("The current identity {Serial} in {StateDirectory} is incomplete or damaged; the agent will enroll again", current, _root);
            DeletePointer(CurrentPointer);
            current = null;
        }
        var pending = ReadPointer(PendingPointer);
        if (pending is not null && (pending == current || !IsComplete(pending)))
        {
            if (pending != current)
            {
                _logger.LogWarning("Discarding the incomplete pending identity {Serial} (interrupted while it was being written)", pending);
            }
            DeletePointer(PendingPointer);
            pending = null;
        }
        foreach (var directory in Directory.EnumerateDirectories(Path.Combine(_root, IdentitiesDirectory)))
        {
            var name = Path.GetFileName(directory);
            if (name != current && name != pending)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        AtomicFile.SyncDirectory(Path.Combine(_root, IdentitiesDirectory));
    }

    public string? CurrentSerial => ReadPointer(CurrentPointer);
    public string? PendingSerial => ReadPointer(PendingPointer);

    public DeviceIdentity? LoadCurrent() => ReadPointer(CurrentPointer) is { } serial ? Load(serial) : null;

    /// <summary>The current identity, read from disk once per serial and owned by the store: callers must not dispose
    /// it. The agent asks for it at every step (each telemetry tick among them); reading and checking the PEM files each
    /// time was a tenth of a simulated fleet's CPU. The pointer is still read each time, so a rotation is seen at once.</summary>
    public DeviceIdentity? Current
    {
        get
        {
            var serial = ReadPointer(CurrentPointer);
            if (_current is not null && _current.Serial == serial)
            {
                return _current;
            }
            // A retired identity's sessions hold copies of their own, so it can go now.
            _current?.Dispose();
            _current = serial is null ? null : Load(serial);
            return _current;
        }
    }
    public DeviceIdentity? LoadPending() => ReadPointer(PendingPointer) is { } serial ? Load(serial) : null;

    /// <summary>Writes a new identity completely, then points <c>pending</c> at it.</summary>
    public void StagePending(ECDsa key, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        IEnumerable<System.Security.Cryptography.X509Certificates.X509Certificate2> chain)
    {
        var serial = certificate.SerialNumber.ToLowerInvariant();
        var directory = IdentityDirectory(serial);
        Directory.CreateDirectory(directory);
        AtomicFile.SyncDirectory(Path.GetDirectoryName(directory)!);
        _checkpoint?.Invoke("identity.directory");
        AtomicFile.WriteText(Path.Combine(directory, KeyFile), key.ExportPkcs8PrivateKeyPem() + "\n", secret: true, _checkpoint);
        _checkpoint?.Invoke("identity.key");
        AtomicFile.WriteText(Path.Combine(directory, CertificateFile), certificate.ExportCertificatePem() + "\n", secret: true, _checkpoint);
        _checkpoint?.Invoke("identity.certificate");
        AtomicFile.WriteText(Path.Combine(directory, ChainFile), string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")), secret: false, _checkpoint);
        _checkpoint?.Invoke("identity.chain");
        AtomicFile.WriteText(Path.Combine(_root, PendingPointer), serial + "\n", secret: false, _checkpoint);
        _checkpoint?.Invoke("pending.pointer");
    }

    /// <summary>The pending identity has been proven: <c>current</c> switches to it, then the old one is deleted.</summary>
    public void PromotePending()
    {
        var pending = ReadPointer(PendingPointer) ?? throw new InvalidOperationException("No pending identity to promote.");
        var old = ReadPointer(CurrentPointer);
        AtomicFile.WriteText(Path.Combine(_root, CurrentPointer), pending + "\n", secret: false, _checkpoint);
        _checkpoint?.Invoke("current.pointer");
        DeletePointer(PendingPointer);
        _checkpoint?.Invoke("pending.removed");
        if (old is not null && old != pending)
        {
            Directory.Delete(IdentityDirectory(old), recursive: true);
            AtomicFile.SyncDirectory(Path.Combine(_root, IdentitiesDirectory));
            _checkpoint?.Invoke("old.removed");
        }
    }

    /// <summary>The pending identity was refused: forget it, keep the current one.</summary>
    public void DiscardPending()
    {
        var pending = ReadPointer(PendingPointer);
        if (pending is null)
        {
            return;
        }
        DeletePointer(PendingPointer);
        if (pending != ReadPointer(CurrentPointer))
        {
            Directory.Delete(IdentityDirectory(pending), recursive: true);
        }
    }

    private bool IsComplete(string serial)
    {
        using var identity = Load(serial);
        return identity is not null;
    }

    private DeviceIdentity? Load(string serial)
    {
        var directory = IdentityDirectory(serial);
        try
        {
            var identity = DeviceIdentity.FromPem(File.ReadAllText(Path.Combine(directory, KeyFile)),
                File.ReadAllText(Path.Combine(directory, CertificateFile)), File.ReadAllText(Path.Combine(directory, ChainFile)));
            if (!identity.KeyMatchesCertificate() || identity.Serial != serial)
            {
                identity.Dispose();
                return null;
            }
            return identity;
        }
        catch (Exception e) when (e is IOException or CryptographicException or ArgumentException or UnauthorizedAccessException)
        {
            // A half-written or damaged identity (a power cut mid-rotation) counts as absent: the caller falls back to
            // the other slot or to enrollment, which is how the store recovers.
            return null;
        }
    }

    private string? ReadPointer(string name)
    {
        var path = Path.Combine(_root, name);
        if (!File.Exists(path))
        {
            return null;
        }
        var serial = File.ReadAllText(path).Trim();
        return serial.Length > 0 && serial.All(char.IsAsciiHexDigitLower) ? serial : null;
    }

    private void DeletePointer(string name)
    {
        File.Delete(Path.Combine(_root, name));
        AtomicFile.SyncDirectory(_root);
    }
}
