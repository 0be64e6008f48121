using IotPki.Pki;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

public sealed class PkiOptionsValidator : IValidateOptions<PkiOptions>
{
    public ValidateOptionsResult Validate(string? name, PkiOptions options)
    {
        if (options.OperationalLifetime < CertificateProfile.MinimumLifetime)
        {
            return ValidateOptionsResult.Fail($"Pki:OperationalLifetime must be at least {CertificateProfile.MinimumLifetime}.");
        }
        if (options.ServerTlsLifetime < TimeSpan.FromHours(1))
        {
            return ValidateOptionsResult.Fail("Pki:ServerTlsLifetime must be at least one hour.");
        }
        if (options.ServerTlsCheckInterval < TimeSpan.FromSeconds(1) || options.ServerTlsCheckInterval > options.ServerTlsLifetime / 6)
        {
            return ValidateOptionsResult.Fail("Pki:ServerTlsCheckInterval must be at least one second and at most a sixth of Pki:ServerTlsLifetime.");
        }
        return ValidateOptionsResult.Success;
    }
}
