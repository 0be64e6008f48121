using IotPki.Server.Cluster;

namespace IotPki.Server.Ca;

/// <summary>The issuing CAs changed (a rollover or a retirement, on any instance or by a CLI command): every instance
/// loads them again, so each publishes and accepts the same chains.</summary>
public sealed class PkiChangedNotice(PkiInitializer pki) : IClusterNoticeHandler
{
    public const string Channel = "iotpki_pki_changed";

    string IClusterNoticeHandler.Channel => Channel;

    public Task HandleAsync(string payload) => pki.ReloadAsync(CancellationToken.None);

    public Task ResyncAsync(CancellationToken ct) => pki.ReloadAsync(ct);
}
