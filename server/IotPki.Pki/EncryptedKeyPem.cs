using System.Security.Cryptography;

namespace IotPki.Pki;

/// <summary>CA private keys at rest: encrypted PKCS#8 (PBES2, AES-256-CBC, PBKDF2-SHA256).</summary>
public static class EncryptedKeyPem
{
    private static readonly PbeParameters Parameters = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 600_000);

    public static string Export(ECDsa key, string passphrase) =>
        key.ExportEncryptedPkcs8PrivateKeyPem(passphrase.AsSpan(), Parameters);

    public static ECDsa Import(string pem, string passphrase)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromEncryptedPem(pem, passphrase.AsSpan());
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new CryptographicException("The CA key could not be decrypted: wrong passphrase or damaged key.", e);
        }
    }
}
