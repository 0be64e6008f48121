using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Ca;

/// <summary>This instance's TLS certificate for every listener: kept in the data directory, renewed at 2/3 of its
/// life, at startup and by <see cref="ServerTlsRenewal"/> while the server runs.</summary>
public static class ServerTlsCertificate
{
    public const string CertificateFile = "server.pem";
    public const string KeyFile = "server.key";
    public const string CaBundleFile = "ca.pem";

    /// <summary>The certificate in the data directory while it is usable (issued by this issuing CA, naming every
    /// configured host, before 2/3 of its life); otherwise a new one, recorded and audited before it is written, so a
    /// certificate in use is always one the database knows. Issued is null when the one on disk was kept.</summary>
    public static async Task<(X509Certificate2 Certificate, IssuedCertificate? Issued)> EnsureAsync(
        IotPkiDbContext db, PkiOptions options, CertificateIssuer issuer, TimeProvider clock, CancellationToken ct)
    {
        var certPath = Path.Combine(options.DataDirectory, CertificateFile);
        var keyPath = Path.Combine(options.DataDirectory, KeyFile);
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            var existing = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (IsUsable(existing, issuer, options, clock.GetUtcNow()))
            {
                return (existing, null);
            }
            existing.Dispose();
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = new PublicKey(key);
        var names = options.ServerHostNames.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var issued = issuer.IssueServerTls(publicKey, names, [IPAddress.Loopback, IPAddress.IPv6Loopback], options.ServerTlsLifetime);
        db.Certificates.Add(CertificateRecord.Issued(issued, "server", null, clock.GetUtcNow()));
        db.AuditEvents.Add(new AuditEvent
        {
            At = clock.GetUtcNow(), Action = "certificate.issued", Actor = "system",
            Detail = $"server TLS {issued.SerialHex} for {string.Join(',', names)}",
        });
        await db.SaveChangesAsync(ct);
        Directory.CreateDirectory(options.DataDirectory);
        AtomicFile.WriteText(keyPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
        AtomicFile.WriteText(certPath, issued.Pem + "\n" + issuer.IssuingCa.CertificatePem + "\n", secret: false);
        return (issued.Certificate.CopyWithPrivateKey(key), issued);
    }

    /// <summary>ca.pem: the root, then every issuing CA in use (two during a rollover's overlap).</summary>
    public static void WriteCaBundle(PkiOptions options, X509Certificate2 root, IEnumerable<X509Certificate2> issuing) =>
        AtomicFile.WriteText(Path.Combine(options.DataDirectory, CaBundleFile),
            string.Concat(new[] { root }.Concat(issuing).Select(c => c.ExportCertificatePem() + "\n")), secret: false);

    public static SslStreamCertificateContext CreateContext(X509Certificate2 certificate, X509Certificate2 issuing) =>
        SslStreamCertificateContext.Create(certificate, [issuing], offline: true);

    private static bool IsUsable(X509Certificate2 certificate, CertificateIssuer issuer, PkiOptions options, DateTimeOffset now)
    {
        var issuedBy = certificate.Issuer == issuer.IssuingCa.Certificate.Subject
            && certificate.Extensions["2.5.29.35"] is X509AuthorityKeyIdentifierExtension aki
            && issuer.IssuingCa.Certificate.Extensions["2.5.29.14"] is X509SubjectKeyIdentifierExtension ski
            && aki.KeyIdentifier.HasValue && Convert.ToHexString(aki.KeyIdentifier.Value.Span) == ski.SubjectKeyIdentifier;
        var dnsNames = certificate.Extensions["2.5.29.17"] is X509SubjectAlternativeNameExtension san
            ? san.EnumerateDnsNames().ToHashSet(StringComparer.OrdinalIgnoreCase)
            : [];
        var lifetime = certificate.NotAfter - certificate.NotBefore;
        var renewAt = certificate.NotBefore.ToUniversalTime() + lifetime * 2 / 3;
        return issuedBy && options.ServerHostNames.All(dnsNames.Contains) && now.UtcDateTime < renewAt;
    }
}
