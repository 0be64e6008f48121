using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.FirmwareSim;

/// <summary>Enrolls every device of a factory directory over EST and keeps its operational identity next to its
/// bootstrap (devices/&lt;id&gt;/op.pem, op.key 0600), so the MQTT benchmarks have a fleet of real device identities.</summary>
public sealed class FleetIdentities(Uri estBase, string caBundlePath, Factory factory, int concurrency)
{
    public static string CertPath(Factory factory, string id) => Path.Combine(factory.DevicesDirectory, id, "op.pem");
    public static string KeyPath(Factory factory, string id) => Path.Combine(factory.DevicesDirectory, id, "op.key");

    /// <summary>Device ids of the factory directory, in serials.csv order.</summary>
    public static IReadOnlyList<string> DeviceIds(Factory factory) =>
        File.ReadAllLines(factory.SerialsPath).Skip(1).Where(l => l.Length > 0).ToList();

    public async Task<(int Enrolled, string? FirstError)> RunAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPemFile(caBundlePath);
        var enrolled = 0;
        var (_, firstError) = await WorkQueue.RunAsync(ids.Count, concurrency, async i =>
        {
            var id = ids[i];
            var dir = Path.Combine(factory.DevicesDirectory, id);
            try
            {
                using var bootstrap = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
                using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                using var client = EstHttpClient.Create(bootstrap, anchors);
                var certificates = await EstHttpClient.SimpleEnrollAsync(client, estBase, EstHttpClient.CsrBase64(id, key), ct);
                var leaf = certificates.First(c => !IsCa(c));
                AtomicFile.WriteText(KeyPath(factory, id), key.ExportPkcs8PrivateKeyPem(), secret: true);
                File.WriteAllText(CertPath(factory, id), leaf.ExportCertificatePem() + "\n");
                certificates.ForEach(c => c.Dispose());
                Interlocked.Increment(ref enrolled);
                return null;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or FormatException or CryptographicException or InvalidOperationException)
            {
                return $"{id}: {e.Message}";
            }
        }, ct);
        return (enrolled, firstError);
    }

    private static bool IsCa(X509Certificate2 c) =>
        c.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
