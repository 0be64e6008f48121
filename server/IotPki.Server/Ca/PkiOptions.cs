using System.ComponentModel.DataAnnotations;

namespace IotPki.Server.Ca;

public sealed class PkiOptions
{
    public const string Section = "Pki";

    [Required, RegularExpression("^[a-z0-9]([a-z0-9.-]{0,252}[a-z0-9])?$")]
    public string TrustDomain { get; set; } = "iotpki.local";

    /// <summary>Base URL written into certificates for the CRL distribution point and the OCSP responder.</summary>
    [Required, Url]
    public string PublicBaseUrl { get; set; } = "http://localhost:8080";

    public TimeSpan OperationalLifetime { get; set; } = TimeSpan.FromDays(30);

    public TimeSpan ServerTlsLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often a running instance checks whether its TLS certificate is due for renewal.</summary>
    public TimeSpan ServerTlsCheckInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a running instance looks for an earlier issuing CA whose certificates have all expired.</summary>
    public TimeSpan CaRetirementCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Where this instance writes its TLS key and certificate and the CA bundle (ca.pem).</summary>
    [Required]
    public string DataDirectory { get; set; } = ".data/pki";

    /// <summary>DNS names of the server's TLS certificate, besides the loopback addresses.</summary>
    public List<string> ServerHostNames { get; set; } = ["localhost"];
}
