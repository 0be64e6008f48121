namespace IotPki.Server.Cluster;

/// <summary>What a feature does with the notices of one channel, on every server instance. Handlers are idempotent:
/// the instance that sends a notice applies it at once and again when its own NOTIFY comes back.</summary>
public interface IClusterNoticeHandler
{
    string Channel { get; }

    /// <summary>Applies one notice; a payload it cannot read is ignored.</summary>
    Task HandleAsync(string payload);

    /// <summary>Catches up after the listener (re)connected: notices sent while it was away are lost to it.</summary>
    Task ResyncAsync(CancellationToken ct);
}
