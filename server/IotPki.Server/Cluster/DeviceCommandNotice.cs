using System.Text.Json;
using IotPki.Identity;

namespace IotPki.Server.Cluster;

/// <summary>A command for one device's agent, announced to every server instance over PostgreSQL NOTIFY (channel
/// <see cref="Channel"/>); the instance holding the device's session publishes it on <see cref="Topic"/>.</summary>
public sealed record DeviceCommandNotice(DeviceId DeviceId, string Command, string RequestedBy, DateTimeOffset At,
    DateTimeOffset? Deadline = null, int JitterSeconds = 0)
{
    public const string Channel = "iotpki_device_command";
    public const string Renew = "renew";

    public string Topic => $"devices/{DeviceId}/commands/{Command}";

    /// <summary>What the agent receives, as JSON: the command, who asked and when, and for a planned renewal the
    /// deadline (the at-risk time) and the jitter window in seconds: the agent rotates at a random moment within it.</summary>
    public byte[] Payload() => JsonSerializer.SerializeToUtf8Bytes(new { command = Command, requestedBy = RequestedBy, at = At, deadline = Deadline, jitterSeconds = JitterSeconds });

    public string ToJson() => JsonSerializer.Serialize(this);

    public static DeviceCommandNotice? Parse(string payload)
    {
        try
        {
            var notice = JsonSerializer.Deserialize<DeviceCommandNotice>(payload);
            return notice is { DeviceId.Value: not null, Command: Renew } ? notice : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
