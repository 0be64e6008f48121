namespace IotPki.Agent;

/// <summary>Used when no broker is configured: an identity counts as proven when its key matches its certificate and the
/// certificate chains to the trust bundle and is within validity. There is no session, so no renew command either.</summary>
public sealed class LocalVerificationConnector(TrustBundle trust, TimeProvider clock) : IBrokerConnector
{
    public Task<IBrokerSession> ConnectAsync(DeviceIdentity identity, CancellationToken ct)
    {
        if (!identity.KeyMatchesCertificate())
        {
            throw new BrokerRefusedException("the private key does not match the certificate");
        }
        if (!trust.Verifies(identity.Certificate, identity.Chain, clock.GetUtcNow()))
        {
            throw new BrokerRefusedException("the certificate does not chain to the trust bundle or is not valid now");
        }
        return Task.FromResult<IBrokerSession>(new Session());
    }

    private sealed class Session : IBrokerSession
    {
        private readonly TaskCompletionSource<RenewAsk> _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Task<RenewAsk> RenewRequested => _never.Task;
        public Task Closed => _never.Task;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        // No broker to publish to: the identity is only verified locally.
        public Task PublishTelemetryAsync(ReadOnlyMemory<byte> payload, CancellationToken ct) => Task.CompletedTask;
    }
}
