using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Data.Entities;

/// <summary>A device maker whose CA is a trust anchor for bootstrap certificates only.</summary>
public sealed class Manufacturer
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string CaCertificatePem { get; set; }
    /// <summary>SHA-256 of the CA certificate, lower-case hex.</summary>
    public required string CaThumbprint { get; set; }
    /// <summary>The CA's subject key identifier, matched against a bootstrap certificate's AKI.</summary>
    public required string CaKeyId { get; set; }
    public required string DeviceIdField { get; set; }
    /// <summary>What <c>simpleenroll</c> does with an unregistered serial of this manufacturer:
    /// <see cref="UnregisteredPolicy.Refuse"/>, <see cref="UnregisteredPolicy.Pending"/> or <see cref="UnregisteredPolicy.AutoApprove"/>.</summary>
    public string UnregisteredPolicy { get; set; } = Entities.UnregisteredPolicy.Refuse;
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The certificate profile of this manufacturer's devices; null takes the service's default
    /// (<c>Pki:OperationalLifetime</c>, <c>Renewal:WindowStart</c>, <c>Renewal:AtRisk</c>).</summary>
    public TimeSpan? OperationalLifetime { get; set; }
    public double? RenewalWindowStart { get; set; }
    public double? RenewalAtRisk { get; set; }
    /// <summary>A first enrollment of this manufacturer's devices must prove possession (RFC 7030 §3.5): its CSR carries
    /// the TLS 1.2 session's tls-unique as challengePassword, so a CSR replayed on another connection is refused.</summary>
    public bool RequireProofOfPossession { get; set; }

    /// <summary>The row of a manufacturer whose bootstrap certificates <paramref name="ca"/> issues.</summary>
    public static Manufacturer FromCa(string name, X509Certificate2 ca, DeviceIdField field, DateTimeOffset now) => new()
    {
        Name = name,
        CaCertificatePem = ca.ExportCertificatePem(),
        CaThumbprint = CertificateIdentifiers.Thumbprint(ca),
        CaKeyId = CertificateIdentifiers.SubjectKeyId(ca) ?? "",
        DeviceIdField = BootstrapIdentity.FieldName(field),
        CreatedAt = now,
    };
}
