using IotPki.Identity;
using IotPki.Server.Cluster;

namespace IotPki.Server.Broker;

/// <summary>Publishes a device command to the device if its session is on this instance's broker.</summary>
public sealed partial class DeviceCommandRelay(BrokerSessions sessions, ILogger<DeviceCommandRelay> logger) : IClusterNoticeHandler
{
    public string Channel => DeviceCommandNotice.Channel;

    public async Task HandleAsync(string payload)
    {
        if (DeviceCommandNotice.Parse(payload) is not { } notice)
        {
            return;
        }
        try
        {
            if (await sessions.PublishCommandAsync(notice))
            {
                LogCommandRelayed(logger, notice.Command, notice.DeviceId);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            LogCommandFailed(logger, notice.Command, notice.DeviceId, e.Message);
        }
    }

    /// <summary>A command sent while this instance was not listening is lost, as for a device that was offline.</summary>
    public Task ResyncAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Sent the {Command} command to {DeviceId}")]
    private static partial void LogCommandRelayed(ILogger logger, string command, DeviceId deviceId);

    [LoggerMessage(LogLevel.Warning, "Could not send the {Command} command to {DeviceId}: {Error}")]
    private static partial void LogCommandFailed(ILogger logger, string command, DeviceId deviceId, string error);
}
