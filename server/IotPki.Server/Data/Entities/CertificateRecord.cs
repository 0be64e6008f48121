namespace IotPki.Server.Data.Entities;

/// <summary>Every certificate the issuing CA signed, committed before it is handed to anyone.</summary>
public sealed class CertificateRecord
{
    public required string Serial { get; set; }
    public string? DeviceId { get; set; }
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
}
