using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using Microsoft.Extensions.Logging;

namespace IotPki.Agent;

/// <summary>The agent's loop: recover the state directory, prove a pending identity, enroll with the bootstrap
/// certificate when there is no usable identity, hold the broker session, and rotate at the policy's instant or on
/// the server's renew command. A rotation keeps the old identity until the new one has connected once.</summary>
public sealed class DeviceAgent
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly TrustBundle _trust;
    private readonly EstClient _est;
    private readonly IBrokerConnector _broker;
    private readonly RotationPolicy _policy;
    private readonly Action<string>? _checkpoint;
    private string? _dueSerial;
    private DateTimeOffset _due;

    public DeviceAgent(AgentOptions options, ILogger logger, TimeProvider? clock = null, IBrokerConnector? broker = null,
        Action<string>? checkpoint = null)
    {
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _trust = TrustBundle.Load(options.TrustBundlePath);
        _est = new EstClient(options.EstUrl!, _trust);
        _broker = broker ?? (options.BrokerUrl is { } url
            ? new MqttBrokerConnector(url, _trust, logger)
            : new LocalVerificationConnector(_trust, _clock));
        _policy = new RotationPolicy(options.RenewalFraction, options.RenewalJitter, options.ClockSkew);
        _checkpoint = checkpoint;
        Store = new IdentityStore(options.StateDirectory, logger, checkpoint);
    }

    public IdentityStore Store { get; }

    /// <summary>Raised each time the agent holds a proven identity (its serial), after a connect or a rotation.</summary>
    public event Action<string>? IdentityReady;

    public async Task RunAsync(CancellationToken ct)
    {
        Store.Recover();
        _logger.LogInformation("Agent starting with state in {StateDirectory} (current {Current}, pending {Pending})",
            Store.Root, Store.CurrentSerial ?? "none", Store.PendingSerial ?? "none");
        IBrokerSession? session = null;
        var reconnect = new Backoff(_options.BackoffInitial, _options.BackoffMax);
        try
        {
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (Store.PendingSerial is not null)
                {
                    var proven = await ProvePendingAsync(ct).ConfigureAwait(false);
                    if (proven is not null)
                    {
                        await DisposeAsync(session).ConfigureAwait(false);
                        session = proven;
                    }
                }

                using var current = Store.LoadCurrent();
                if (current is null)
                {
                    await EnrollAsync(ct).ConfigureAwait(false);
                    continue;
                }
                if (_policy.HasExpired(current.Certificate, _clock.GetUtcNow()))
                {
                    _logger.LogWarning("The certificate {Serial} expired on {NotAfter:u} while the device was offline: falling back to bootstrap enrollment",
                        current.Serial, current.Certificate.NotAfter.ToUniversalTime());
                    await DisposeAsync(session).ConfigureAwait(false);
                    session = null;
                    await EnrollAsync(ct).ConfigureAwait(false);
                    continue;
                }
                if (session is null)
                {
                    try
                    {
                        session = await _broker.ConnectAsync(current, ct).ConfigureAwait(false);
                        reconnect.Reset();
                        _logger.LogInformation("Connected as {DeviceId} with certificate {Serial}", current.DeviceId, current.Serial);
                    }
                    catch (BrokerRefusedException e)
                    {
                        // Perhaps revoked: simplereenroll tells us (and stops the agent) or gives us a fresh identity.
                        _logger.LogError("The broker refused certificate {Serial}: {Reason}; asking EST for a new certificate", current.Serial, e.Reason);
                        await RenewAsync(current, ct).ConfigureAwait(false);
                        continue;
                    }
                    catch (Exception e) when (IsTransient(e, ct))
                    {
                        var wait = reconnect.Next();
                        _logger.LogWarning("Cannot reach the broker ({Error}); retrying in {Delay:0.00} s", e.Message, wait.TotalSeconds);
                        await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
                        if (reconnect.Attempt % 5 == 0)
                        {
                            // A broker that drops the TLS handshake may be refusing a revoked certificate: EST says so.
                            _logger.LogWarning("{Attempts} failed broker connections with certificate {Serial}; asking EST for a new certificate",
                                reconnect.Attempt, current.Serial);
                            await RenewAsync(current, ct).ConfigureAwait(false);
                        }
                        continue;
                    }
                }
                IdentityReady?.Invoke(current.Serial);

                if (_dueSerial != current.Serial)
                {
                    _dueSerial = current.Serial;
                    _due = _policy.RenewalTime(current.Certificate);
                    _logger.LogInformation("Certificate {Serial} is valid until {NotAfter:u}; renewal at {Due:u}",
                        current.Serial, current.Certificate.NotAfter.ToUniversalTime(), _due);
                }
                var delay = _due - _clock.GetUtcNow();
                if (delay > TimeSpan.Zero)
                {
                    using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var timer = Task.Delay(delay < TimeSpan.FromHours(1) ? delay : TimeSpan.FromHours(1), _clock, wake.Token);
                    var woke = await Task.WhenAny(timer, session.RenewRequested, session.Closed).ConfigureAwait(false);
                    await wake.CancelAsync().ConfigureAwait(false);
                    ct.ThrowIfCancellationRequested();
                    if (woke == session.Closed)
                    {
                        await DisposeAsync(session).ConfigureAwait(false);
                        session = null;
                        continue;
                    }
                    if (woke == timer)
                    {
                        continue;
                    }
                    _logger.LogInformation("Rotating certificate {Serial} on the server's renew command", current.Serial);
                }
                else
                {
                    _logger.LogInformation("Rotating certificate {Serial}: renewal time reached", current.Serial);
                }
                await RenewAsync(current, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            await DisposeAsync(session).ConfigureAwait(false);
        }
    }

    /// <summary>Proves the pending identity by connecting with it: promoted on success, discarded when refused.</summary>
    private async Task<IBrokerSession?> ProvePendingAsync(CancellationToken ct)
    {
        var backoff = new Backoff(_options.BackoffInitial, _options.BackoffMax);
        while (true)
        {
            using var pending = Store.LoadPending();
            if (pending is null)
            {
                return null;
            }
            try
            {
                var session = await _broker.ConnectAsync(pending, ct).ConfigureAwait(false);
                _checkpoint?.Invoke("pending.connected");
                Store.PromotePending();
                _logger.LogInformation("New certificate {Serial} proven by a broker connection; it is now current and the previous identity is retired",
                    pending.Serial);
                return session;
            }
            catch (BrokerRefusedException e)
            {
                _logger.LogError("The new certificate {Serial} was refused ({Reason}); discarding it and keeping the current identity", pending.Serial, e.Reason);
                Store.DiscardPending();
                return null;
            }
            catch (Exception e) when (IsTransient(e, ct))
            {
                var wait = backoff.Next();
                _logger.LogWarning("Cannot prove the new certificate {Serial} yet ({Error}); retrying in {Delay:0.00} s", pending.Serial, e.Message, wait.TotalSeconds);
                await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary><c>simplereenroll</c> (or <c>serverkeygen</c>) with the current certificate; an expired one falls back
    /// to bootstrap enrollment.</summary>
    private async Task RenewAsync(DeviceIdentity current, CancellationToken ct)
    {
        X509Certificate2 issued;
        ECDsa key;
        try
        {
            using var tls = current.ToTlsCertificate();
            (key, issued) = await RequestCertificateAsync(EstClient.SimpleReenroll, tls, current.DeviceId, ct).ConfigureAwait(false);
        }
        catch (EstRefusalException e) when (e.Reason == "certificate_expired")
        {
            _logger.LogWarning("The server says certificate {Serial} has expired ({Detail}): falling back to bootstrap enrollment", current.Serial, e.Detail);
            await EnrollAsync(ct).ConfigureAwait(false);
            return;
        }
        using var ownedKey = key;
        using var owned = issued;
        _checkpoint?.Invoke("rotation.issued");
        await StageAsync(key, issued, ct).ConfigureAwait(false);
        _logger.LogInformation("Renewed: new certificate {Serial} valid until {NotAfter:u}, pending until it connects", issued.SerialNumber.ToLowerInvariant(),
            issued.NotAfter.ToUniversalTime());
    }

    /// <summary><c>simpleenroll</c> (or <c>serverkeygen</c>) with the bootstrap certificate.</summary>
    private async Task EnrollAsync(CancellationToken ct)
    {
        using var bootstrap = LoadBootstrap();
        using var tls = X509CertificateLoader.LoadPkcs12(bootstrap.Export(X509ContentType.Pkcs12), null);
        var deviceId = BootstrapDeviceId(bootstrap);
        _logger.LogInformation("Enrolling device {DeviceId} with bootstrap certificate {Thumbprint}", deviceId, bootstrap.Thumbprint);
        var (key, issued) = await RequestCertificateAsync(EstClient.SimpleEnroll, tls, deviceId, ct).ConfigureAwait(false);
        using var ownedKey = key;
        using var owned = issued;
        await StageAsync(key, issued, ct).ConfigureAwait(false);
        _logger.LogInformation("Enrolled: certificate {Serial} for {DeviceId} valid until {NotAfter:u}", issued.SerialNumber.ToLowerInvariant(), deviceId,
            issued.NotAfter.ToUniversalTime());
    }

    /// <summary>A new key and its certificate: the key made here and sent as a CSR to <paramref name="operation"/>, or,
    /// with <see cref="AgentOptions.ServerKeyGeneration"/>, made by the server through <c>serverkeygen</c>.</summary>
    private async Task<(ECDsa Key, X509Certificate2 Certificate)> RequestCertificateAsync(string operation, X509Certificate2 tls, DeviceId deviceId,
        CancellationToken ct)
    {
        if (_options.ServerKeyGeneration)
        {
            // RFC 7030 §4.4.1: the server ignores the CSR's key and signature, so the client key signs it and no key is made here.
            _logger.LogInformation("Asking the server to make the new key (serverkeygen): this device makes none");
            var placeholder = PlaceholderCsr(deviceId, tls);
            _checkpoint?.Invoke("rotation.key");
            return await WithBackoffAsync(EstClient.ServerKeyGen, () => _est.ServerKeyGenAsync(tls, placeholder, ct), ct).ConfigureAwait(false);
        }
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var csr = Csr(deviceId, key);
            _checkpoint?.Invoke("rotation.key");
            var issued = await WithBackoffAsync(operation, () => operation == EstClient.SimpleEnroll
                ? _est.SimpleEnrollAsync(tls, csr, ct)
                : _est.SimpleReenrollAsync(tls, csr, ct), ct).ConfigureAwait(false);
            return (key, issued);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private X509Certificate2 LoadBootstrap()
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(_options.BootstrapCertificatePath, _options.BootstrapKeyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new AgentConfigurationException(
                $"Cannot read the bootstrap certificate '{_options.BootstrapCertificatePath}' and key '{_options.BootstrapKeyPath}': {e.Message}");
        }
    }

    private async Task StageAsync(ECDsa key, X509Certificate2 issued, CancellationToken ct)
    {
        var chain = await WithBackoffAsync("cacerts", () => _est.GetCaCertsAsync(ct), ct).ConfigureAwait(false);
        if (!_trust.Verifies(issued, chain, new DateTimeOffset(issued.NotBefore.ToUniversalTime()).AddSeconds(1)))
        {
            throw new AgentStoppedException($"The issued certificate {issued.SerialNumber} does not chain to the trust bundle {_options.TrustBundlePath}.");
        }
        Store.StagePending(key, issued, chain.Where(c => !c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData)));
        foreach (var c in chain)
        {
            c.Dispose();
        }
    }

    private async Task<T> WithBackoffAsync<T>(string operation, Func<Task<T>> call, CancellationToken ct)
    {
        var backoff = new Backoff(_options.BackoffInitial, _options.BackoffMax);
        while (true)
        {
            TimeSpan wait;
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (EstRefusalException e) when (e.IsFinal)
            {
                _logger.LogCritical("EST {Operation} refused: {Reason}: {Detail}. The agent stops; an operator must re-provision this device",
                    operation, e.Reason, e.Detail);
                throw new AgentStoppedException($"EST {operation} refused: {e.Reason}: {e.Detail} The agent stops; an operator must re-provision this device.", e);
            }
            catch (EstRefusalException e) when (e.IsPending)
            {
                wait = e.RetryAfter is { } after && after > TimeSpan.Zero ? after : backoff.Next();
                _logger.LogInformation("EST {Operation}: enrollment waits for an operator's approval; asking again in {Delay:0.00} s", operation, wait.TotalSeconds);
            }
            catch (EstRefusalException e) when (e.Reason != "certificate_expired")
            {
                wait = backoff.Next();
                _logger.LogWarning("EST {Operation} refused ({Status} {Reason}): {Detail}; retrying in {Delay:0.00} s", operation, (int)e.Status, e.Reason, e.Detail, wait.TotalSeconds);
            }
            catch (Exception e) when (e is not EstRefusalException && IsTransient(e, ct))
            {
                wait = backoff.Next();
                _logger.LogWarning("EST {Operation} failed: {Error}; retrying in {Delay:0.00} s", operation, e.Message, wait.TotalSeconds);
            }
            await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
        }
    }

    private static bool IsTransient(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is HttpRequestException or IOException or TimeoutException or FormatException
            or System.Net.Sockets.SocketException or OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException
            or System.Security.Authentication.AuthenticationException;

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

    /// <summary>The device id of the bootstrap certificate, read with the service's rule from the configured attribute.</summary>
    private DeviceId BootstrapDeviceId(X509Certificate2 bootstrap) =>
        BootstrapIdentity.TryReadDeviceId(bootstrap, _options.DeviceIdField, out var id) ? id
            : throw new AgentConfigurationException(
                $"The bootstrap certificate's subject {BootstrapIdentity.FieldName(_options.DeviceIdField)} ({bootstrap.Subject}) holds no valid device id.");

    private static async Task DisposeAsync(IBrokerSession? session)
    {
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
