using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Operators;

/// <summary>Issues operator and service certificates (key generated here, handed over once as PEM and PKCS#12).</summary>
public sealed class OperatorCertificates(IotPkiDbContext db, PkiState pki, IOptions<OperatorOptions> options, TimeProvider clock)
{
    public sealed record Issued(string Serial, string CertificatePem, string KeyPem, byte[] Pkcs12, X509Certificate2 Certificate);

    public async Task<Issued> IssueAsync(CertificateKind kind, string name, string? role, string pkcs12Password, string actor, CancellationToken ct)
    {
        if (!DeviceId.TryParse(name, out _))
        {
            throw new RegistrationException($"'{name}' is not a valid name: use [a-z0-9][a-z0-9._-]{{2,63}}.");
        }
        if (kind == CertificateKind.Operator && !OperatorRole.IsOperatorRole(role))
        {
            throw new RegistrationException($"The role must be {OperatorRole.Admin} or {OperatorRole.Viewer}.");
        }
        if (kind is not (CertificateKind.Operator or CertificateKind.Service))
        {
            throw new ArgumentOutOfRangeException(nameof(kind));
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = pki.Issuer.Issue(CertificateProfile.Create(kind, options.Value.CertificateLifetime), name, new PublicKey(key),
            kind == CertificateKind.Operator ? role : OperatorRole.Service);
        var now = clock.GetUtcNow();
        var kindName = kind == CertificateKind.Operator ? "operator" : "service";
        db.Certificates.Add(CertificateRecord.Issued(issued, kindName, null, now));
        AuditLog.Add(db, now, $"{kindName}.certificate.issued", actor, detail: $"{name} ({role ?? kindName}), serial {issued.SerialHex}");
        await db.SaveChangesAsync(ct);

        using var withKey = issued.Certificate.CopyWithPrivateKey(key);
        var pkcs12 = withKey.ExportPkcs12(new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000), pkcs12Password);
        return new Issued(issued.SerialHex, issued.Pem + "\n" + pki.Issuing.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n", pkcs12, issued.Certificate);
    }
}
