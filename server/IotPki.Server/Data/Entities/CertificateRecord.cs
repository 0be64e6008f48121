using IotPki.Identity;

namespace IotPki.Server.Data.Entities;

/// <summary>Every certificate an issuing CA signed, committed before it is handed to anyone.</summary>
public sealed class CertificateRecord
{
    /// <summary>The kind of a device's operational certificate (EST issues them; a lost answer is resent from them).</summary>
    public const string OperationalKind = "operational";

    public required string Serial { get; set; }
    public DeviceId? DeviceId { get; set; }
    public required string Kind { get; set; }
    public required string Subject { get; set; }
    public required string Thumbprint { get; set; }
    public DateTimeOffset NotBefore { get; set; }
    public DateTimeOffset NotAfter { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public int? RevocationReason { get; set; }
    public required string Pem { get; set; }

    /// <summary>The subject key identifier of the issuing CA that signed it; null on rows from before issuing-CA rollover,
    /// all signed by the first issuing CA (role <c>issuing</c>).</summary>
    public string? IssuerKeyId { get; set; }

    /// <summary>The row of a certificate the issuing CA just signed.</summary>
    public static CertificateRecord Issued(IotPki.Pki.IssuedCertificate issued, string kind, DeviceId? deviceId, DateTimeOffset now) => new()
    {
        Serial = issued.SerialHex,
        DeviceId = deviceId,
        Kind = kind,
        Subject = issued.Certificate.Subject,
        Thumbprint = issued.Thumbprint,
        NotBefore = issued.NotBefore,
        NotAfter = issued.NotAfter,
        Status = CertificateStatus.Valid,
        IssuedAt = now,
        Pem = issued.Pem,
        IssuerKeyId = IotPki.Pki.CertificateIdentifiers.AuthorityKeyId(issued.Certificate),
    };
}
