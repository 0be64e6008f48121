using System.Security.Cryptography;
using IotPki.Identity;

namespace IotPki.Pki.Keys;

/// <summary>Keys kept as encrypted PKCS#8 files (0600, in a 0700 directory) outside the database: the offline root.
/// The reference is <c>file:</c> and the file's path; an operator moves the file to a machine that stays off.</summary>
public sealed class EncryptedFileKeyStore(string directory, string passphrase) : ICaKeyStore
{
    public const string Scheme = "file:";

    public string Kind => "file";

    public CaKey Generate(string label)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CaKey(key, Keep(label, EncryptedKeyPem.Export(key, passphrase)));
    }

    /// <summary>Writes a key that is already encrypted (one moving out of the database) to a new file of this store;
    /// returns its reference.</summary>
    public string Keep(string label, string encryptedPem)
    {
        if (!OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var path = Path.GetFullPath(Path.Combine(directory, $"{label}-{DateTime.UtcNow:yyyyMMddHHmmss}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}.key.pem"));
        AtomicFile.WriteText(path, encryptedPem, secret: true);
        return Scheme + path;
    }

    public bool Recognizes(string reference) => reference.StartsWith(Scheme, StringComparison.Ordinal);

    public ECDsa Open(string reference)
    {
        var path = reference[Scheme.Length..];
        if (!File.Exists(path))
        {
            throw new CryptographicException($"The key file {path} is not on this machine (an offline key stays on the machine that holds it).");
        }
        return EncryptedKeyPem.Import(File.ReadAllText(path), passphrase);
    }

    public void Destroy(string reference) => File.Delete(reference[Scheme.Length..]);
}
