using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
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
        var next = -1;
        var enrolled = 0;
        string? firstError = null;

        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < ids.Count)
            {
                var id = ids[i];
                var dir = Path.Combine(factory.DevicesDirectory, id);
                try
                {
                    using var bootstrap = X509Certificate2.CreateFromPemFile(Path.Combine(dir, "boot.pem"), Path.Combine(dir, "boot.key"));
                    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    var csr = Convert.ToBase64String(new CertificateRequest($"CN={id}", key, HashAlgorithmName.SHA256).CreateSigningRequest());
                    using var client = EstHttpClient.Create(bootstrap, anchors);
                    using var content = new StringContent(csr, Encoding.ASCII);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pkcs10");
                    using var response = await client.PostAsync(new Uri(estBase, "/.well-known/est/simpleenroll"), content, ct);
                    var body = await response.Content.ReadAsStringAsync(ct);
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new HttpRequestException($"{(int)response.StatusCode}: {body}");
                    }
                    var leaf = CertsOnlyPkcs7.Decode(Convert.FromBase64String(body)).First(c => !IsCa(c));
                    PrivateFile.Write(KeyPath(factory, id), key.ExportPkcs8PrivateKeyPem());
                    File.WriteAllText(CertPath(factory, id), leaf.ExportCertificatePem() + "\n");
                    Interlocked.Increment(ref enrolled);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or FormatException or CryptographicException or InvalidOperationException)
                {
                    Interlocked.CompareExchange(ref firstError, $"{id}: {e.Message}", null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(Worker, ct)));
        return (enrolled, firstError);
    }

    private static bool IsCa(X509Certificate2 c) =>
        c.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
