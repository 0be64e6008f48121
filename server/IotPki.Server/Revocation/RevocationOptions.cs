using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Revocation;

/// <summary>CRL and OCSP settings; they live in the <c>Pki</c> section beside <c>Pki:PublicBaseUrl</c>, which the
/// certificates point at.</summary>
public sealed class RevocationOptions : IValidatableObject
{
    public const string Section = "Pki";

    /// <summary>Plain-HTTP port that serves only <c>/crl</c> and <c>/ocsp</c> (0 picks a free port); bound to
    /// <c>Est:BindAddress</c>. Both are signed, and relying parties fetch them over HTTP.</summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 8080;

    /// <summary>nextUpdate − thisUpdate of the CRL; it is rebuilt after half of it at the latest.</summary>
    public TimeSpan CrlValidity { get; set; } = TimeSpan.FromHours(24);

    /// <summary>nextUpdate − thisUpdate of each OCSP answer.</summary>
    public TimeSpan OcspValidity { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each instance writes its <c>ocsp.signed</c> audit rows: the OCSP answers it signed since the
    /// last, per issuing CA.</summary>
    public TimeSpan OcspAuditInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Largest accepted OCSP request body.</summary>
    [Range(512, 1024 * 1024)]
    public int MaxOcspRequestBytes { get; set; } = 16 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CrlValidity < TimeSpan.FromMinutes(2) || CrlValidity > TimeSpan.FromDays(60))
        {
            yield return new ValidationResult("Pki:CrlValidity must be between 2 minutes and 60 days.", [nameof(CrlValidity)]);
        }
        if (OcspAuditInterval < TimeSpan.FromSeconds(1) || OcspAuditInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Pki:OcspAuditInterval must be between 1 second and 1 hour.", [nameof(OcspAuditInterval)]);
        }
        if (OcspValidity < TimeSpan.FromMinutes(1) || OcspValidity > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult("Pki:OcspValidity must be between 1 minute and 7 days.", [nameof(OcspValidity)]);
        }
    }
}
