namespace IotPki.Pki;

/// <summary>Where relying parties find revocation information; written into every issued certificate.</summary>
public sealed record PkiEndpoints(Uri CrlDistributionPoint, Uri OcspResponder, string TrustDomain);
