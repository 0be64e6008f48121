using System.Security.Cryptography.X509Certificates;

namespace IotPki.Pki;

public enum ChainVerdict
{
    Valid,
    Expired,
    NotYetValid,
    UntrustedIssuer,
    Invalid,
}

/// <summary>Validates a presented certificate against explicit trust anchors only (never the system store).</summary>
public static class ChainValidator
{
    public static ChainVerdict Validate(X509Certificate2 leaf, X509Certificate2 anchor, IEnumerable<X509Certificate2>? intermediates, DateTimeOffset now)
    {
        if (now.UtcDateTime < leaf.NotBefore.ToUniversalTime() - CertificateProfile.ClockSkewAllowance)
        {
            return ChainVerdict.NotYetValid;
        }
        if (now.UtcDateTime > leaf.NotAfter.ToUniversalTime())
        {
            return ChainVerdict.Expired;
        }
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.Add(anchor);
        if (intermediates is not null)
        {
            policy.ExtraStore.AddRange(intermediates.ToArray());
        }
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.DisableCertificateDownloads = true;
        var built = chain.Build(leaf);
        var status = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (acc, s) => acc | s.Status);
        // The chain's elements are new certificate objects: release their native handles now rather than leaving
        // them to the finalizer, which otherwise becomes a large share of the CPU under load.
        foreach (var element in chain.ChainElements)
        {
            element.Certificate.Dispose();
        }
        if (built)
        {
            return ChainVerdict.Valid;
        }
        if (status.HasFlag(X509ChainStatusFlags.NotTimeValid))
        {
            return ChainVerdict.Expired;
        }
        return status.HasFlag(X509ChainStatusFlags.PartialChain) || status.HasFlag(X509ChainStatusFlags.UntrustedRoot)
            ? ChainVerdict.UntrustedIssuer
            : ChainVerdict.Invalid;
    }
}
