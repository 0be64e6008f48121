namespace IotPki.Server.Broker;

/// <summary>Which topics an identity may publish to and subscribe to. A device: publish under
/// <c>devices/&lt;its-id&gt;/</c> (not its own commands), subscribe only to <c>devices/&lt;its-id&gt;/commands/…</c>.
/// A service: subscribe to telemetry and state of any device, publish commands to a named device.
/// Nobody reaches <c>$SYS</c> or another device's topics.</summary>
public static class TopicAcl
{
    public static bool MayPublish(BrokerIdentity who, string topic)
    {
        if (topic.Length == 0 || topic[0] == '$' || topic.Contains('+') || topic.Contains('#'))
        {
            return false;
        }
        var levels = topic.Split('/');
        if (levels.Length < 3 || levels[0] != "devices" || levels.Any(l => l.Length == 0))
        {
            return false;
        }
        return who.IsDevice
            ? levels[1] == who.Name && levels[2] != "commands"
            : levels[2] == "commands" && levels.Length >= 4;
    }

    public static bool MaySubscribe(BrokerIdentity who, string filter)
    {
        if (filter.Length == 0 || filter[0] == '$')
        {
            return false;
        }
        var levels = filter.Split('/');
        if (!WellFormed(levels) || levels.Length < 3 || levels[0] != "devices")
        {
            return false;
        }
        if (who.IsDevice)
        {
            return levels[1] == who.Name && levels[2] == "commands";
        }
        return (levels[1] == "+" || !levels[1].Contains('#')) && levels[1] != "#"
            && levels[2] is "telemetry" or "state";
    }

    /// <summary>MQTT filter syntax: '#' only as the last level, wildcards only as whole levels.</summary>
    private static bool WellFormed(string[] levels)
    {
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#') && (level != "#" || i != levels.Length - 1))
            {
                return false;
            }
            if (level.Contains('+') && level != "+")
            {
                return false;
            }
        }
        return true;
    }
}
