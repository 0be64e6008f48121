namespace IotPki.FirmwareSim;

/// <summary>A device clock that is off by a fixed amount: what it reads is wrong, how fast time passes is not.</summary>
public sealed class SkewedClock(TimeSpan offset) : TimeProvider
{
    public TimeSpan Offset => offset;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
