using IotPki.Pki;

namespace IotPki.Server.Ca;

/// <summary>The CA passphrase from configuration (<c>Ca:Passphrase</c>, tests) or the environment
/// (<c>IOTPKI_CA_PASSPHRASE</c> / <c>IOTPKI_CA_PASSPHRASE_FILE</c>). Never logged.</summary>
public sealed class CaPassphraseSource(IConfiguration configuration)
{
    public string Get() => CaPassphrase.Resolve(
        configuration["Ca:Passphrase"] ?? Environment.GetEnvironmentVariable(CaPassphrase.Variable),
        configuration["Ca:PassphraseFile"] ?? Environment.GetEnvironmentVariable(CaPassphrase.FileVariable));
}
