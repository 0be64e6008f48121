using System.Security.Cryptography;
using IotPki.Pki.Keys;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Ca;

/// <summary>The key stores this process may use, chosen by <see cref="CaKeyOptions"/>: where new issuing and root keys
/// go, and which store opens a stored reference. Tokens are opened (and logged in to) on first use only.</summary>
public sealed class CaKeyStores(IOptions<CaKeyOptions> options, CaPassphraseSource passphrase) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Pkcs11Token> _tokens = new(StringComparer.Ordinal);

    private CaKeyOptions O => options.Value;

    /// <summary>The store for a new issuing CA key.</summary>
    public ICaKeyStore Issuing => O.KeyStore == CaKeyStoreKind.Pkcs11
        ? new Pkcs11KeyStore(Token(RequireLabel(O.Pkcs11.Token, "Ca:Pkcs11:Token")))
        : new EncryptedPemKeyStore(passphrase.Get());

    /// <summary>The store for a new root key: never the database.</summary>
    public ICaKeyStore Root => O.Pkcs11.RootToken is { Length: > 0 } rootToken ? new Pkcs11KeyStore(Token(rootToken)) : OfflineFiles;

    /// <summary>Encrypted key files in <see cref="CaKeyOptions.OfflineRootDirectory"/>, to be carried off the machine.</summary>
    public EncryptedFileKeyStore OfflineFiles => new(O.OfflineRootDirectory, passphrase.Get());

    /// <summary>The signing key a stored reference names, from whichever store holds it.</summary>
    public ECDsa Open(string reference) => StoreOf(reference).Open(reference);

    /// <summary>Destroys the key a stored reference names, in whichever store holds it.</summary>
    public void Destroy(string reference) => StoreOf(reference).Destroy(reference);

    private ICaKeyStore StoreOf(string reference)
    {
        if (reference.StartsWith(Pkcs11Uri.Scheme, StringComparison.Ordinal))
        {
            return new Pkcs11KeyStore(Token(Pkcs11Uri.Parse(reference).Token));
        }
        ICaKeyStore store = reference.StartsWith(EncryptedFileKeyStore.Scheme, StringComparison.Ordinal)
            ? OfflineFiles
            : new EncryptedPemKeyStore(passphrase.Get());
        return store.Recognizes(reference) ? store
            : throw new CryptographicException("The stored CA key reference is not one this server knows.");
    }

    /// <summary>The kind of store a stored reference points into, for audit rows and <c>ca show</c>.</summary>
    public static string KindOf(string reference) =>
        reference.StartsWith(Pkcs11Uri.Scheme, StringComparison.Ordinal) ? "pkcs11"
        : reference.StartsWith(EncryptedFileKeyStore.Scheme, StringComparison.Ordinal) ? "file"
        : reference.Length == 0 ? "none" : "database";

    private Pkcs11Token Token(string label)
    {
        lock (_gate)
        {
            if (!_tokens.TryGetValue(label, out var token))
            {
                token = new Pkcs11Token(O.Pkcs11.Library, label, Pin());
                _tokens[label] = token;
            }
            return token;
        }
    }

    private string Pin()
    {
        var p = O.Pkcs11;
        var pin = p.Pin is { Length: > 0 } ? p.Pin : Environment.GetEnvironmentVariable(Pkcs11Options.PinVariable);
        if (string.IsNullOrEmpty(pin))
        {
            var file = p.PinFile is { Length: > 0 } ? p.PinFile : Environment.GetEnvironmentVariable(Pkcs11Options.PinFileVariable);
            pin = string.IsNullOrEmpty(file) ? null
                : File.Exists(file) ? ReadPinFile(file)
                : throw new InvalidOperationException($"The PKCS#11 PIN file {file} does not exist.");
        }
        return !string.IsNullOrEmpty(pin) ? pin
            : throw new InvalidOperationException($"No PKCS#11 PIN: set {Pkcs11Options.PinVariable}, {Pkcs11Options.PinFileVariable} or Ca:Pkcs11:PinFile.");
    }

    private static string ReadPinFile(string path)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & others) != 0)
        {
            throw new InvalidOperationException($"The PKCS#11 PIN file {path} is readable by others: chmod 600 {path}");
        }
        return File.ReadAllText(path).TrimEnd('\r', '\n');
    }

    private static string RequireLabel(string label, string setting) => label is { Length: > 0 } ? label
        : throw new InvalidOperationException($"Ca:KeyStore is pkcs11 but {setting} names no token.");

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var token in _tokens.Values)
            {
                token.Dispose();
            }
            _tokens.Clear();
        }
    }
}
