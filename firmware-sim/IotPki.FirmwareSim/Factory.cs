using System.Security.Cryptography;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.FirmwareSim;

/// <summary>A production line: a manufacturer CA (created once per directory) that mints bootstrap identities
/// and writes the serials CSV the manufacturer hands to the service.</summary>
public sealed class Factory(string directory)
{
    public string CaCertificatePath => Path.Combine(directory, "manufacturer-ca.pem");
    public string CaKeyPath => Path.Combine(directory, "manufacturer-ca.key");
    public string SerialsPath => Path.Combine(directory, "serials.csv");
    public string DevicesDirectory => Path.Combine(directory, "devices");

    public CertificateAuthority LoadOrCreateCa(string name = "IotPki Simulated Factory CA")
    {
        if (File.Exists(CaCertificatePath) && File.Exists(CaKeyPath))
        {
            var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(CaKeyPath));
            return new CertificateAuthority(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(CaCertificatePath)), key);
        }
        Directory.CreateDirectory(directory);
        var ca = CertificateAuthority.CreateRoot(name, TimeSpan.FromDays(3650), DateTimeOffset.UtcNow);
        AtomicFile.WriteText(CaKeyPath, ca.Key.ExportPkcs8PrivateKeyPem(), secret: true);
        File.WriteAllText(CaCertificatePath, ca.CertificatePem + "\n");
        return ca;
    }

    /// <summary>Mints <paramref name="count"/> bootstrap identities named prefix-00000.. (one folder per device: boot.key
    /// 0600, boot.pem, and agent.json when <paramref name="agent"/> is given) on every core, and writes serials.csv.</summary>
    public IReadOnlyList<string> Mint(string prefix, int count, TimeSpan validity, AgentTemplate? agent = null, Action<int>? progress = null,
        string caName = "IotPki Simulated Factory CA")
    {
        using var ca = LoadOrCreateCa(caName);
        var caKeyPem = ca.Key.ExportPkcs8PrivateKeyPem();
        var ids = Enumerable.Range(0, count).Select(i => DeviceId.Parse($"{prefix}{i:D5}").Value).ToArray();
        var now = DateTimeOffset.UtcNow;
        var done = 0;
        var configJson = agent?.ToJson();
        if (agent is not null)
        {
            File.Copy(agent.TrustBundlePath, Path.Combine(directory, "ca.pem"), overwrite: true);
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            // Each worker signs with its own handle on the CA key.
            () =>
            {
                var key = ECDsa.Create();
                key.ImportFromPem(caKeyPem);
                return new CertificateAuthority(ca.Certificate, key);
            },
            (i, _, workerCa) =>
            {
                var id = DeviceId.Parse(ids[i]);
                var dir = Path.Combine(DevicesDirectory, id.Value);
                Directory.CreateDirectory(dir);
                // A device minted by an earlier run keeps its identity: a rerun never replaces a key that may be in use.
                if (!File.Exists(Path.Combine(dir, "boot.key")) || !File.Exists(Path.Combine(dir, "boot.pem")))
                {
                    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    using var certificate = BootstrapIssuer.Issue(workerCa, id, key, now.AddMinutes(-5), now + validity);
                    File.WriteAllText(Path.Combine(dir, "boot.pem"), certificate.ExportCertificatePem() + "\n");
                    AtomicFile.WriteText(Path.Combine(dir, "boot.key"), key.ExportPkcs8PrivateKeyPem(), secret: true);
                }
                if (configJson is not null)
                {
                    File.WriteAllText(Path.Combine(dir, "agent.json"), configJson);
                }
                var n = Interlocked.Increment(ref done);
                if (n % 500 == 0 || n == count)
                {
                    progress?.Invoke(n);
                }
                return workerCa;
            },
            workerCa => workerCa.Key.Dispose());
        File.WriteAllLines(SerialsPath, ["serial", .. ids]);
        return ids;
    }
}

/// <summary>What each device's agent.json says: where the service is, relative to the device's own folder.</summary>
public sealed record AgentTemplate(Uri EstUrl, Uri? BrokerUrl, string TrustBundlePath)
{
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string?>
    {
        ["EstUrl"] = EstUrl.ToString(),
        ["BrokerUrl"] = BrokerUrl?.ToString(),
        ["TrustBundlePath"] = "../../ca.pem",
        ["BootstrapCertificatePath"] = "boot.pem",
        ["BootstrapKeyPath"] = "boot.key",
        ["StateDirectory"] = "state",
    }.Where(p => p.Value is not null).ToDictionary(), new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
}
