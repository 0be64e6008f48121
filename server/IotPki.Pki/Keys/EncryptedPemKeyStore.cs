using System.Security.Cryptography;

namespace IotPki.Pki.Keys;

/// <summary>Keys kept as encrypted PKCS#8 in the database row beside the certificate: the reference is the
/// encrypted PEM itself, and opening it needs the CA passphrase.</summary>
public sealed class EncryptedPemKeyStore(string passphrase) : ICaKeyStore
{
    private const string PemHeader = "-----BEGIN ENCRYPTED PRIVATE KEY-----";

    public string Kind => "database";

    public CaKey Generate(string label)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CaKey(key, EncryptedKeyPem.Export(key, passphrase));
    }

    public bool Recognizes(string reference) => reference.StartsWith(PemHeader, StringComparison.Ordinal);

    public ECDsa Open(string reference) => EncryptedKeyPem.Import(reference, passphrase);

    public void Destroy(string reference)
    {
        // The reference is the key: the row that held it is overwritten by the caller.
    }
}
