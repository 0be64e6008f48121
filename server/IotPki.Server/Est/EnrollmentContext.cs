using IotPki.Identity;
using IotPki.Pki;

using System.Security.Cryptography.X509Certificates;

namespace IotPki.Server.Est;

/// <summary>Who is asking, from where, for what: the facts every enrollment record and audit row carries.</summary>
public sealed record EnrollmentContext(string Operation, X509Certificate2? ClientCertificate, string? SourceAddress)
{
    /// <summary>The device the gate found the certificate to belong to, once it did.</summary>
    public DeviceId? DeviceId { get; init; }

    public string? ClientSubject => ClientCertificate?.Subject;

    public string? ClientThumbprint => ClientCertificate is null ? null : CertificateIdentifiers.Thumbprint(ClientCertificate);

    /// <summary><c>device:&lt;id&gt;</c> once the gate knows the device, as every audit row names a device; before,
    /// the certificate by its thumbprint.</summary>
    public string Actor => DeviceId is { } id ? $"device:{id}" : ClientCertificate is null ? "anonymous" : $"cert:{ClientThumbprint}";
}
