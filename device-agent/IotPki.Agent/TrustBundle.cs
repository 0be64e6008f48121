using System.Security.Cryptography.X509Certificates;

namespace IotPki.Agent;

/// <summary>The CA certificates the agent trusts (root and issuing CA of the service): the server's TLS certificate,
/// the broker's and the agent's own certificates must chain to a self-signed one of them.</summary>
public sealed class TrustBundle(X509Certificate2Collection certificates)
{
    public X509Certificate2Collection Certificates { get; } = certificates;

    public static TrustBundle Load(string path)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        if (collection.Count == 0)
        {
            throw new AgentConfigurationException($"The trust bundle '{path}' holds no certificate.");
        }
        return new TrustBundle(collection);
    }

    /// <summary>The policy of a TLS handshake's own chain build: the bundle's roots only, never the system store, no
    /// downloads, no revocation fetches. With it, SslStream's verdict (no policy errors) is the bundle's.</summary>
    public X509ChainPolicy ChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        foreach (var c in Certificates)
        {
            (IsSelfSigned(c) ? policy.CustomTrustStore : policy.ExtraStore).Add(c);
        }
        return policy;
    }

    private static bool IsSelfSigned(X509Certificate2 c) => c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData);

    /// <summary>True when the chain a TLS handshake already built and found valid ends in a root of the bundle: the
    /// same verdict as <see cref="Verifies"/>, without building the chain a second time at every connect.</summary>
    public bool EndsInRoot(System.Net.Security.SslPolicyErrors errors, X509Chain? chain)
    {
        if (errors != System.Net.Security.SslPolicyErrors.None || chain is null || chain.ChainElements.Count == 0)
        {
            return false;
        }
        var root = chain.ChainElements[^1].Certificate;
        if (!IsSelfSigned(root))
        {
            return false;
        }
        foreach (var c in Certificates)
        {
            if (IsSelfSigned(c) && c.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when <paramref name="leaf"/> chains to a root of the bundle at <paramref name="at"/>; revocation is not checked here.</summary>
    public bool Verifies(X509Certificate2 leaf, IEnumerable<X509Certificate2>? intermediates, DateTimeOffset at)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        foreach (var c in Certificates)
        {
            if (IsSelfSigned(c))
            {
                chain.ChainPolicy.CustomTrustStore.Add(c);
            }
            else
            {
                chain.ChainPolicy.ExtraStore.Add(c);
            }
        }
        foreach (var c in intermediates ?? [])
        {
            chain.ChainPolicy.ExtraStore.Add(c);
        }
        return chain.Build(leaf);
    }
}
