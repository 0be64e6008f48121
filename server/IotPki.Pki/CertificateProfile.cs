using IotPki.Identity;

namespace IotPki.Pki;

/// <summary>Lifetime and back-dating of the certificates issued under one profile.</summary>
public sealed record CertificateProfile(CertificateKind Kind, TimeSpan Lifetime)
{
    /// <summary>Certificates start a little in the past so that devices with a slow clock accept them.</summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MinimumLifetime = TimeSpan.FromMinutes(1);

    public static CertificateProfile Operational(TimeSpan lifetime) => Create(CertificateKind.Operational, lifetime);

    public static CertificateProfile Create(CertificateKind kind, TimeSpan lifetime)
    {
        if (lifetime < MinimumLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"A certificate lifetime must be at least {MinimumLifetime}.");
        }
        return new CertificateProfile(kind, lifetime);
    }
}
