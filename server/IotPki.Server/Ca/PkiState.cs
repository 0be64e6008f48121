using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Server.Ca;

/// <summary>The loaded CA hierarchy of this instance: the root certificate (never its key) and the issuing CAs, filled
/// at startup by <see cref="PkiInitializer"/> and swapped whole when a rollover reloads it.</summary>
public sealed class PkiState
{
    private sealed record Snapshot(
        X509Certificate2 Root, IReadOnlyList<IssuingAuthority> Authorities, IssuingAuthority Active,
        X509ChainPolicy ClientChainPolicy, string CaCertsBase64, X509Certificate2[] IssuingCertificates);

    private volatile Snapshot? _current;

    public bool IsReady => _current is not null;

    private Snapshot Current => _current ?? throw new InvalidOperationException("The PKI is not initialized yet.");

    /// <summary>The issuer of new certificates: the active issuing CA.</summary>
    public CertificateIssuer Issuer => Current.Active.Issuer;
    public X509Certificate2 Root => Current.Root;
    public X509Certificate2 Issuing => Current.Active.Ca.Certificate;

    /// <summary>Every issuing CA not yet retired, the active one first: a chain may end in any of them.</summary>
    public IReadOnlyList<IssuingAuthority> Authorities => Current.Authorities;

    /// <summary>The certificates of <see cref="Authorities"/>, as intermediates for chain building.</summary>
    public X509Certificate2[] IssuingCertificates => Current.IssuingCertificates;

    /// <summary>The EST <c>cacerts</c> answer (every issuing CA, then the root), computed once per load.</summary>
    public string CaCertsBase64 => Current.CaCertsBase64;

    public SslStreamCertificateContextHolder ServerTls { get; } = new();

    /// <summary>The chain policy of TLS handshakes: our root only, no downloads, no revocation fetches.</summary>
    public X509ChainPolicy ClientChainPolicy => Current.ClientChainPolicy;

    public void Load(X509Certificate2 root, IReadOnlyList<IssuingAuthority> authorities)
    {
        var active = authorities.Single(a => a.Active);
        var ordered = authorities.OrderByDescending(a => a.Active).ToList();
        var issuing = ordered.Select(a => a.Ca.Certificate).ToArray();
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(root);
        policy.ExtraStore.AddRange(issuing);
        _current = new Snapshot(root, ordered, active, policy, CertsOnlyPkcs7.EncodeBase64([.. issuing, root]), issuing);
    }
}

public sealed class SslStreamCertificateContextHolder
{
    public System.Net.Security.SslStreamCertificateContext? Context { get; set; }
}
