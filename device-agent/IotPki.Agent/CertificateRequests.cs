using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using Microsoft.Extensions.Logging;

namespace IotPki.Agent;

/// <summary>The agent's EST exchanges: a new key and its certificate (the key made on the device and sent as a CSR,
/// or made by the server through <c>serverkeygen</c>), and the chain from <c>cacerts</c>; each retried with backoff
/// while retrying can help, and stopped for good on a final refusal.</summary>
internal sealed class CertificateRequests(AgentOptions options, EstClient est, ILogger logger, TimeProvider clock, Action<string>? checkpoint)
{
    public Task<List<X509Certificate2>> CaCertsAsync(CancellationToken ct) => WithBackoffAsync("cacerts", () => est.GetCaCertsAsync(ct), ct);

    /// <summary>A new key and its certificate: the key made here and sent as a CSR to <paramref name="operation"/>, or,
    /// with <see cref="AgentOptions.ServerKeyGeneration"/>, made by the server through <c>serverkeygen</c>.</summary>
    public async Task<(ECDsa Key, X509Certificate2 Certificate)> RequestAsync(string operation, X509Certificate2 tls, DeviceId deviceId,
        CancellationToken ct)
    {
        if (options.ServerKeyGeneration)
        {
            // RFC 7030 §4.4.1: the server ignores the CSR's key and signature, so the client key signs it and no key is made here.
            logger.LogInformation("Asking the server to make the new key (serverkeygen): this device makes none");
            var placeholder = PlaceholderCsr(deviceId, tls);
            checkpoint?.Invoke("rotation.key");
            return await WithBackoffAsync(EstClient.ServerKeyGen, () => est.ServerKeyGenAsync(tls, placeholder, ct), ct).ConfigureAwait(false);
        }
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var csr = Csr(deviceId, key);
            checkpoint?.Invoke("rotation.key");
            var issued = await WithBackoffAsync(operation, () => operation == EstClient.SimpleEnroll
                ? est.SimpleEnrollAsync(tls, csr, ct)
                : est.SimpleReenrollAsync(tls, csr, ct), ct).ConfigureAwait(false);
            return (key, issued);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private async Task<T> WithBackoffAsync<T>(string operation, Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await Retry.UntilDoneAsync(call, (e, backoff) => EstFailure(operation, e, backoff, ct),
                new Backoff(options.BackoffInitial, options.BackoffMax), clock, ct).ConfigureAwait(false);
        }
        catch (EstRefusalException e) when (e.IsFinal)
        {
            throw new AgentStoppedException($"EST {operation} refused: {e.Reason}: {e.Detail} The agent stops; an operator must re-provision this device.", e);
        }
    }

    /// <summary>How long to wait after an EST failure, or null when waiting cannot help (a final refusal, an expired
    /// certificate the caller handles, cancellation).</summary>
    private TimeSpan? EstFailure(string operation, Exception failure, Backoff backoff, CancellationToken ct)
    {
        switch (failure)
        {
            case EstRefusalException e when e.IsFinal:
                logger.LogCritical("EST {Operation} refused: {Reason}: {Detail}. The agent stops; an operator must re-provision this device",
                    operation, e.Reason, e.Detail);
                return null;
            case EstRefusalException e when e.IsSuspended:
                // Not final: a reinstated device must come back without a hand on it. Ask at the slowest pace.
                logger.LogWarning("EST {Operation}: the device is suspended ({Detail}); asking again in {Delay:0} s", operation, e.Detail,
                    options.BackoffMax.TotalSeconds);
                return options.BackoffMax;
            case EstRefusalException e when e.IsPending:
                var after = e.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero ? retryAfter : backoff.Next();
                logger.LogInformation("EST {Operation}: enrollment waits for an operator's approval; asking again in {Delay:0.00} s", operation, after.TotalSeconds);
                return after;
            case EstRefusalException e when e.Reason != "certificate_expired":
                // A busy server spreads its Retry-After; sooner than it would only be turned away again.
                var wait = backoff.Next();
                wait = e.RetryAfter is { } asked && asked > wait ? asked : wait;
                logger.LogWarning("EST {Operation} refused ({Status} {Reason}): {Detail}; retrying in {Delay:0.00} s", operation, (int)e.Status, e.Reason, e.Detail, wait.TotalSeconds);
                return wait;
            case not EstRefusalException when DeviceAgent.IsTransient(failure, ct):
                var delay = backoff.Next();
                logger.LogWarning("EST {Operation} failed: {Error}; retrying in {Delay:0.00} s", operation, failure.Message, delay.TotalSeconds);
                return delay;
            default:
                return null;
        }
    }

    private static byte[] Csr(DeviceId deviceId, ECDsa key) =>
        new CertificateRequest(Subject(deviceId), key, HashAlgorithmName.SHA256).CreateSigningRequest();

    private static byte[] PlaceholderCsr(DeviceId deviceId, X509Certificate2 withKey)
    {
        using var ec = withKey.GetECDsaPrivateKey();
        if (ec is not null)
        {
            return Csr(deviceId, ec);
        }
        using var rsa = withKey.GetRSAPrivateKey()
            ?? throw new AgentConfigurationException($"The key of certificate {withKey.Subject} is neither ECDSA nor RSA.");
        return new CertificateRequest(Subject(deviceId), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequest();
    }

    private static X500DistinguishedName Subject(DeviceId deviceId)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(deviceId.Value);
        return subject.Build();
    }

}
