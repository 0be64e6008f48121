using System.Security.Cryptography.X509Certificates;

namespace IotPki.Agent;

/// <summary>When to renew: at <see cref="Fraction"/> of the certificate lifetime, spread by ± <see cref="Jitter"/>
/// of the lifetime so a fleet enrolled together does not renew together.</summary>
public sealed class RotationPolicy(double fraction, double jitter, TimeSpan clockSkew)
{
    public double Fraction { get; } = fraction;
    public double Jitter { get; } = jitter;

    /// <summary>The instant to renew a certificate, drawn once per certificate.</summary>
    public DateTimeOffset RenewalTime(X509Certificate2 certificate)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var lifetime = new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) - notBefore;
        var spread = (Random.Shared.NextDouble() * 2 - 1) * Jitter;
        var at = Math.Clamp(Fraction + spread, 0, 0.95);
        return notBefore + lifetime * at;
    }

    /// <summary>True when the certificate has expired by the device's clock, allowing for <c>clockSkew</c>:
    /// a device clock a few minutes fast still tries <c>simplereenroll</c> first.</summary>
    public bool HasExpired(X509Certificate2 certificate, DateTimeOffset now) =>
        now - clockSkew > new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
}
