using System.Globalization;
using IotPki.Identity;

namespace IotPki.Agent;

/// <summary>The server's time as this device best knows it: the device clock plus the offset learned from the
/// <c>Date</c> header of the last EST answer. Renewal and expiry are judged on it, so a device whose clock runs ten
/// minutes fast neither rotates in a loop nor takes a fresh certificate for an expired one. The offset is kept in the
/// state directory: after a reboot the device judges its stored certificate before it next talks to the server.</summary>
public sealed class ServerClock : TimeProvider
{
    public const string OffsetFile = "server-clock-offset";

    /// <summary><c>Date</c> has whole seconds: a smaller change is noise, not worth a write.</summary>
    private static readonly TimeSpan Resolution = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _device;
    private readonly string _path;
    private long _offsetTicks;

    public ServerClock(TimeProvider device, string stateDirectory)
    {
        _device = device;
        _path = Path.Combine(stateDirectory, OffsetFile);
        _offsetTicks = ReadOffset(_path).Ticks;
    }

    /// <summary>Server time minus device time.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => _device.GetUtcNow() + Offset;

    public override long GetTimestamp() => _device.GetTimestamp();

    public override long TimestampFrequency => _device.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _device.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _device.CreateTimer(callback, state, dueTime, period);

    /// <summary>Learns the offset from a server's answer, stamped <paramref name="serverNow"/>.</summary>
    public void Observe(DateTimeOffset serverNow)
    {
        var offset = serverNow - _device.GetUtcNow();
        if ((offset - Offset).Duration() < Resolution)
        {
            return;
        }
        Interlocked.Exchange(ref _offsetTicks, offset.Ticks);
        if (Directory.Exists(Path.GetDirectoryName(_path)))
        {
            AtomicFile.WriteText(_path, ((long)offset.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "\n", secret: false);
        }
    }

    private static TimeSpan ReadOffset(string path)
    {
        try
        {
            return long.TryParse(File.ReadAllText(path).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
                && Math.Abs(seconds) < TimeSpan.FromDays(3650).TotalSeconds
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.Zero;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return TimeSpan.Zero;
        }
    }
}
