using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IotPki.Identity;
using Microsoft.Extensions.Logging;

namespace IotPki.Agent;

/// <summary>The agent: recover the state directory, then run one step per <see cref="AgentState"/> (prove a pending
/// identity, enroll with the bootstrap certificate when there is no usable identity, connect, hold the broker session,
/// rotate at the policy's instant or on the server's renew command). A rotation keeps the old identity until the new
/// one has connected once.</summary>
public sealed class DeviceAgent
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly TrustBundle _trust;
    private readonly CertificateRequests _requests;
    private readonly IBrokerConnector _broker;
    private readonly RotationPolicy _policy;
    private readonly Action<string>? _checkpoint;
    private readonly Backoff _reconnect;
    private IBrokerSession? _session;
    private string? _dueSerial;
    private DateTimeOffset _due;
    private DateTimeOffset _nextTelemetry;

    public DeviceAgent(AgentOptions options, ILogger logger, TimeProvider? clock = null, IBrokerConnector? broker = null,
        Action<string>? checkpoint = null)
    {
        _options = options;
        _logger = logger;
        var serverClock = new ServerClock(clock ?? TimeProvider.System, options.StateDirectory);
        _clock = serverClock;
        _trust = TrustBundle.Load(options.TrustBundlePath);
        _requests = new CertificateRequests(options, new EstClient(new Endpoints(options.EstUrl!, options.EstFallbackUrls), _trust, serverClock.Observe), logger, _clock, checkpoint);
        _broker = broker ?? (options.BrokerUrl is { } url
            ? new MqttBrokerConnector(new Endpoints(url, options.BrokerFallbackUrls), _trust, logger)
            : new LocalVerificationConnector(_trust, _clock));
        _policy = new RotationPolicy(options.RenewalFraction, options.RenewalJitter, options.ClockSkew);
        _checkpoint = checkpoint;
        _reconnect = new Backoff(options.BackoffInitial, options.BackoffMax);
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
        try
        {
            var state = await DecideAsync().ConfigureAwait(false);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                state = state switch
                {
                    AgentState.ProvePending => await ProvePendingAsync(ct).ConfigureAwait(false),
                    AgentState.Enroll => await EnrollAsync(ct).ConfigureAwait(false),
                    AgentState.Connect => await ConnectAsync(ct).ConfigureAwait(false),
                    AgentState.Hold => await HoldAsync(ct).ConfigureAwait(false),
                    AgentState.Rotate => await RotateAsync(ct).ConfigureAwait(false),
                    _ => throw new InvalidOperationException($"No step for {state}."),
                };
            }
        }
        finally
        {
            await CloseSessionAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Where the state directory and the session say the agent stands.</summary>
    private async Task<AgentState> DecideAsync()
    {
        if (Store.PendingSerial is not null)
        {
            return AgentState.ProvePending;
        }
        var current = Store.Current;
        if (current is null)
        {
            return AgentState.Enroll;
        }
        if (_policy.HasExpired(current.Certificate, _clock.GetUtcNow()))
        {
            _logger.LogWarning("The certificate {Serial} expired on {NotAfter:u} while the device was offline: falling back to bootstrap enrollment",
                current.Serial, current.Certificate.NotAfter.ToUniversalTime());
            await CloseSessionAsync().ConfigureAwait(false);
            return AgentState.Enroll;
        }
        return _session is null ? AgentState.Connect : AgentState.Hold;
    }

    private async Task<AgentState> ConnectAsync(CancellationToken ct)
    {
        var current = Store.Current!;
        try
        {
            _session = await _broker.ConnectAsync(current, ct).ConfigureAwait(false);
            _reconnect.Reset();
            _logger.LogInformation("Connected as {DeviceId} with certificate {Serial}", current.DeviceId, current.Serial);
            return AgentState.Hold;
        }
        catch (BrokerRefusedException e)
        {
            // Perhaps revoked: simplereenroll tells us (and stops the agent) or gives us a fresh identity.
            _logger.LogError("The broker refused certificate {Serial}: {Reason}; asking EST for a new certificate", current.Serial, e.Reason);
            return AgentState.Rotate;
        }
        catch (BrokerClosedBeforeConnAckException e) when (!ct.IsCancellationRequested)
        {
            // Most likely refused (revoked, suspended): EST says so at once, rather than after five reconnects.
            _logger.LogError("The broker closed the connection of certificate {Serial} before answering ({Error}); asking EST for a new certificate",
                current.Serial, e.Message);
            return AgentState.Rotate;
        }
        catch (Exception e) when (IsTransient(e, ct))
        {
            var wait = _reconnect.Next();
            _logger.LogWarning("Cannot reach the broker ({Error}); retrying in {Delay:0.00} s", e.Message, wait.TotalSeconds);
            await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
            if (_reconnect.Attempt % 5 == 0 && FailedInTls(e))
            {
                // A broker that fails the TLS handshake may be refusing a revoked certificate: EST says so. A connection
                // refused or reset before TLS (an instance down, a broker turning a storm away) says nothing of the
                // certificate, and a storm of re-enrollments would only make the storm worse.
                _logger.LogWarning("{Attempts} failed broker connections with certificate {Serial}; asking EST for a new certificate",
                    _reconnect.Attempt, current.Serial);
                return AgentState.Rotate;
            }
            // The outage may have outlasted the certificate: decide again rather than retry blindly.
            return await DecideAsync().ConfigureAwait(false);
        }
    }

    private async Task<AgentState> HoldAsync(CancellationToken ct)
    {
        var session = _session!;
        var current = Store.Current!;
        IdentityReady?.Invoke(current.Serial);
        if (_dueSerial != current.Serial)
        {
            _dueSerial = current.Serial;
            _due = _policy.RenewalTime(current.Certificate);
            _logger.LogInformation("Certificate {Serial} is valid until {NotAfter:u}; renewal at {Due:u}",
                current.Serial, current.Certificate.NotAfter.ToUniversalTime(), _due);
        }
        var delay = _due - _clock.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            _logger.LogInformation("Rotating certificate {Serial}: renewal time reached", current.Serial);
            return AgentState.Rotate;
        }
        if (_options.TelemetryInterval is { } every)
        {
            var untilTelemetry = _nextTelemetry - _clock.GetUtcNow();
            if (untilTelemetry <= TimeSpan.Zero)
            {
                await PublishTelemetryAsync(session, current, ct).ConfigureAwait(false);
                _nextTelemetry = _clock.GetUtcNow() + every;
                untilTelemetry = every;
            }
            delay = delay < untilTelemetry ? delay : untilTelemetry;
        }
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var timer = Task.Delay(delay < TimeSpan.FromHours(1) ? delay : TimeSpan.FromHours(1), _clock, wake.Token);
        var woke = await Task.WhenAny(timer, session.RenewRequested, session.Closed).ConfigureAwait(false);
        await wake.CancelAsync().ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        if (woke == session.RenewRequested)
        {
            var ask = await session.RenewRequested.ConfigureAwait(false);
            var wait = ask.Delay(_clock.GetUtcNow());
            if (wait > TimeSpan.Zero)
            {
                _logger.LogInformation("Renew command received: rotating certificate {Serial} in {Delay:0.0} s (jitter {Jitter:0} s)",
                    current.Serial, wait.TotalSeconds, ask.Jitter.TotalSeconds);
                // The session may end meanwhile: rotating does not need it.
                await Task.Delay(wait, _clock, ct).ConfigureAwait(false);
            }
            _logger.LogInformation("Rotating certificate {Serial} on the server's renew command", current.Serial);
            return AgentState.Rotate;
        }
        if (session.Closed.IsCompleted)
        {
            await CloseSessionAsync().ConfigureAwait(false);
        }
        return await DecideAsync().ConfigureAwait(false);
    }

    /// <summary>One reading; a publish that fails is not worth a reconnect of its own (the session's end does that).</summary>
    private async Task PublishTelemetryAsync(IBrokerSession session, DeviceIdentity current, CancellationToken ct)
    {
        var reading = System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $$"""{"at":"{{_clock.GetUtcNow():O}}","serial":"{{current.Serial}}","uptimeSeconds":{{(long)Environment.TickCount64 / 1000}}}"""));
        try
        {
            await session.PublishTelemetryAsync(reading, ct).ConfigureAwait(false);
            _logger.LogDebug("Telemetry published");
        }
        catch (Exception e) when (IsTransient(e, ct))
        {
            _logger.LogWarning("Could not publish telemetry: {Error}", e.Message);
        }
    }

    private async Task<AgentState> RotateAsync(CancellationToken ct)
    {
        await RenewAsync(Store.Current!, ct).ConfigureAwait(false);
        return await DecideAsync().ConfigureAwait(false);
    }

    /// <summary>Proves the pending identity by connecting with it: promoted on success, discarded when refused.</summary>
    private async Task<AgentState> ProvePendingAsync(CancellationToken ct)
    {
        var backoff = new Backoff(_options.BackoffInitial, _options.BackoffMax);
        var proven = await Retry.UntilDoneAsync(async () =>
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
                throw new PendingNotProvenException(pending.Serial, e);
            }
        }, (e, wait) =>
        {
            if (e is not PendingNotProvenException notYet)
            {
                return null;
            }
            var delay = wait.Next();
            _logger.LogWarning("Cannot prove the new certificate {Serial} yet ({Error}); retrying in {Delay:0.00} s",
                notYet.Serial, notYet.InnerException!.Message, delay.TotalSeconds);
            return delay;
        }, backoff, _clock, ct).ConfigureAwait(false);
        if (proven is not null)
        {
            await CloseSessionAsync().ConfigureAwait(false);
            _session = proven;
        }
        return await DecideAsync().ConfigureAwait(false);
    }

    private async Task CloseSessionAsync()
    {
        if (_session is { } session)
        {
            _session = null;
            await session.DisposeAsync().ConfigureAwait(false);
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
            (key, issued) = await _requests.RequestAsync(EstClient.SimpleReenroll, tls, current.DeviceId, ct).ConfigureAwait(false);
        }
        catch (EstRefusalException e) when (e.Reason == "certificate_expired")
        {
            _logger.LogWarning("The server says certificate {Serial} has expired ({Detail}): falling back to bootstrap enrollment", current.Serial, e.Detail);
            await EnrollWithBootstrapAsync(ct).ConfigureAwait(false);
            return;
        }
        using var ownedKey = key;
        using var owned = issued;
        _checkpoint?.Invoke("rotation.issued");
        await StageAsync(key, issued, ct).ConfigureAwait(false);
        _logger.LogInformation("Renewed: new certificate {Serial} valid until {NotAfter:u}, pending until it connects", issued.SerialNumber.ToLowerInvariant(),
            issued.NotAfter.ToUniversalTime());
    }

    /// <summary><c>simpleenroll</c> (or <c>serverkeygen</c>) with the bootstrap certificate; the result is staged.</summary>
    private async Task<AgentState> EnrollAsync(CancellationToken ct)
    {
        await EnrollWithBootstrapAsync(ct).ConfigureAwait(false);
        return await DecideAsync().ConfigureAwait(false);
    }

    private async Task EnrollWithBootstrapAsync(CancellationToken ct)
    {
        using var bootstrap = LoadBootstrap();
        using var tls = TlsClientCertificate.From(LoadBootstrap());
        var deviceId = BootstrapDeviceId(bootstrap);
        _logger.LogInformation("Enrolling device {DeviceId} with bootstrap certificate {Thumbprint}", deviceId, bootstrap.Thumbprint);
        var (key, issued) = await _requests.RequestAsync(EstClient.SimpleEnroll, tls, deviceId, ct).ConfigureAwait(false);
        using var ownedKey = key;
        using var owned = issued;
        await StageAsync(key, issued, ct).ConfigureAwait(false);
        _logger.LogInformation("Enrolled: certificate {Serial} for {DeviceId} valid until {NotAfter:u}", issued.SerialNumber.ToLowerInvariant(), deviceId,
            issued.NotAfter.ToUniversalTime());
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
        var chain = await _requests.CaCertsAsync(ct).ConfigureAwait(false);
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

    private static bool FailedInTls(Exception e)
    {
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
        }
        return false;
    }

    internal static bool IsTransient(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && e is HttpRequestException or IOException or TimeoutException or FormatException
            or System.Net.Sockets.SocketException or OperationCanceledException or MQTTnet.Exceptions.MqttCommunicationException
            or System.Security.Authentication.AuthenticationException;

    /// <summary>The device id of the bootstrap certificate, read with the service's rule from the configured attribute.</summary>
    private DeviceId BootstrapDeviceId(X509Certificate2 bootstrap) =>
        BootstrapIdentity.TryReadDeviceId(bootstrap, _options.DeviceIdField, out var id) ? id
            : throw new AgentConfigurationException(
                $"The bootstrap certificate's subject {BootstrapIdentity.FieldName(_options.DeviceIdField)} ({bootstrap.Subject}) holds no valid device id.");
}

/// <summary>The pending identity could not be proven for a reason that may pass (the broker unreachable).</summary>
internal sealed class PendingNotProvenException(string serial, Exception inner) : Exception(inner.Message, inner)
{
    public string Serial { get; } = serial;
}
