using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Ca;

/// <summary>The loaded CA hierarchy of this instance; filled once at startup by <see cref="PkiInitializer"/>.</summary>
public sealed class PkiState
{
    private CertificateIssuer? _issuer;

    public bool IsReady => _issuer is not null;

    public CertificateIssuer Issuer => _issuer ?? throw new InvalidOperationException("The PKI is not initialized yet.");
    public X509Certificate2 Root { get; private set; } = null!;
    public X509Certificate2 Issuing => Issuer.IssuingCa.Certificate;

    /// <summary>The EST <c>cacerts</c> answer, computed once.</summary>
    public string CaCertsBase64 { get; private set; } = "";

    public SslStreamCertificateContextHolder ServerTls { get; } = new();

    /// <summary>The chain policy of TLS handshakes: our root only, no downloads, no revocation fetches.</summary>
    public X509ChainPolicy ClientChainPolicy { get; private set; } = new();

    public void Load(X509Certificate2 root, CertificateIssuer issuer)
    {
        Root = root;
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(root);
        policy.ExtraStore.Add(issuer.IssuingCa.Certificate);
        ClientChainPolicy = policy;
        CaCertsBase64 = CertsOnlyPkcs7.EncodeBase64([issuer.IssuingCa.Certificate, root]);
        _issuer = issuer;
    }
}

public sealed class SslStreamCertificateContextHolder
{
    public System.Net.Security.SslStreamCertificateContext? Context { get; set; }
}
