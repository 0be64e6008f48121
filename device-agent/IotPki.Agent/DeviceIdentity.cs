using System.Security.Cryptography;
using IotPki.Identity;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.Agent;

/// <summary>A key, its certificate and the chain above it: what the device presents to EST and the broker.</summary>
public sealed class DeviceIdentity : IDisposable
{
    public DeviceIdentity(ECDsa key, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chain)
    {
        Key = key;
        Certificate = certificate;
        Chain = chain;
    }

    public ECDsa Key { get; }
    public X509Certificate2 Certificate { get; }
    public IReadOnlyList<X509Certificate2> Chain { get; }

    public string Serial => Certificate.SerialNumber.ToLowerInvariant();

    /// <summary>The device id: the operational certificate's CN.</summary>
    public DeviceId DeviceId => DeviceId.Parse(Certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));

    public bool KeyMatchesCertificate()
    {
        using var publicKey = Certificate.GetECDsaPublicKey();
        return publicKey is not null && publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(Key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The certificate with its private key, as TLS client authentication wants it (a fresh copy per use).</summary>
    public X509Certificate2 ToTlsCertificate() => TlsClientCertificate.From(Certificate.CopyWithPrivateKey(Key));

    public static DeviceIdentity FromPem(string keyPem, string certificatePem, string chainPem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(keyPem);
        var certificate = X509Certificate2.CreateFromPem(certificatePem);
        var chain = new X509Certificate2Collection();
        if (chainPem.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            chain.ImportFromPem(chainPem);
        }
        return new DeviceIdentity(key, certificate, chain.ToList());
    }

    public void Dispose()
    {
        Key.Dispose();
        Certificate.Dispose();
    }
}
