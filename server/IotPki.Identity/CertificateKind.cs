namespace IotPki.Identity;

/// <summary>What a certificate issued by the issuing CA is for; the SAN URI path carries it.</summary>
public enum CertificateKind
{
    Operational,
    Operator,
    Service,
    ServerTls,
}
