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
    public DateTimeOffset CreatedAt { get; set; }
}
