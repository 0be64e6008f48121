namespace IotPki.Server.Ca;

/// <summary>Where CA keys live (<c>Ca</c> section). The issuing CA's key is in the database (encrypted PKCS#8) or in a
/// PKCS#11 token; the root's key is never in the database: an encrypted file under <see cref="OfflineRootDirectory"/>,
/// or a key in <see cref="Pkcs11Options.RootToken"/>, which only <c>ca</c> commands open.</summary>
public sealed class CaKeyOptions
{
    public const string Section = "Ca";

    public CaKeyStoreKind KeyStore { get; set; } = CaKeyStoreKind.Database;

    /// <summary>Where a new root key goes when the root is not in a token: a directory to move off this machine.</summary>
    public string OfflineRootDirectory { get; set; } = ".data/offline-root";

    public Pkcs11Options Pkcs11 { get; set; } = new();
}

public enum CaKeyStoreKind
{
    Database,
    Pkcs11,
}

public sealed class Pkcs11Options
{
    public const string PinVariable = "IOTPKI_PKCS11_PIN";
    public const string PinFileVariable = "IOTPKI_PKCS11_PIN_FILE";

    /// <summary>The token library, e.g. /usr/lib/softhsm/libsofthsm2.so.</summary>
    public string Library { get; set; } = "/usr/lib/softhsm/libsofthsm2.so";

    /// <summary>The label of the token that holds the issuing CA's key.</summary>
    public string Token { get; set; } = "";

    /// <summary>The label of the token for a new root key; empty keeps the root as an offline file instead.</summary>
    public string RootToken { get; set; } = "";

    /// <summary>A 0600 file holding the user PIN (or <c>IOTPKI_PKCS11_PIN_FILE</c>); <c>Ca:Pkcs11:Pin</c> or
    /// <c>IOTPKI_PKCS11_PIN</c> give it directly. Never logged.</summary>
    public string PinFile { get; set; } = "";

    public string Pin { get; set; } = "";
}
