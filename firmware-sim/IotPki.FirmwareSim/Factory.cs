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

    public CertificateAuthority LoadOrCreateCa()
    {
        if (File.Exists(CaCertificatePath) && File.Exists(CaKeyPath))
        {
            var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(CaKeyPath));
            return new CertificateAuthority(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(CaCertificatePath)), key);
        }
        Directory.CreateDirectory(directory);
        var ca = CertificateAuthority.CreateRoot("IotPki Simulated Factory CA", TimeSpan.FromDays(3650), DateTimeOffset.UtcNow);
        AtomicFile.WriteText(CaKeyPath, ca.Key.ExportPkcs8PrivateKeyPem(), secret: true);
        File.WriteAllText(CaCertificatePath, ca.CertificatePem + "\n");
        return ca;
    }

    /// <summary>Mints <paramref name="count"/> bootstrap identities named prefix-00000.. and appends them to serials.csv.</summary>
    public IReadOnlyList<string> Mint(string prefix, int count, TimeSpan validity)
    {
        using var ca = LoadOrCreateCa();
        var ids = new List<string>(count);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var id = DeviceId.Parse($"{prefix}{i:D5}");
            var dir = Path.Combine(DevicesDirectory, id.Value);
            Directory.CreateDirectory(dir);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = BootstrapIssuer.Issue(ca, id, key, now.AddMinutes(-5), now + validity);
            AtomicFile.WriteText(Path.Combine(dir, "boot.key"), key.ExportPkcs8PrivateKeyPem(), secret: true);
            File.WriteAllText(Path.Combine(dir, "boot.pem"), certificate.ExportCertificatePem() + "\n");
            ids.Add(id.Value);
        }
        File.WriteAllLines(SerialsPath, ["serial", .. ids]);
        return ids;
    }
}
