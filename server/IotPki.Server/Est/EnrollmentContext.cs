using System.Security.Cryptography.X509Certificates;

namespace IotPki.Server.Est;

/// <summary>Who is asking, from where, for what: the facts every enrollment record and audit row carries.</summary>
public sealed record EnrollmentContext(string Operation, X509Certificate2? ClientCertificate, string? SourceAddress)
{
    public string? ClientSubject => ClientCertificate?.Subject;

    public string? ClientThumbprint => ClientCertificate is null ? null : Fleet.ManufacturerRegistration.Thumbprint(ClientCertificate);

    public string Actor => ClientCertificate is null ? "anonymous" : $"cert:{ClientThumbprint}";
}
