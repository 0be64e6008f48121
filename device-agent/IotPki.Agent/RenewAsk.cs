using System.Text.Json;

namespace IotPki.Agent;

/// <summary>The server's renew command: rotate before <see cref="Deadline"/>, at a random moment within
/// <see cref="Jitter"/> (so a batch of asks is not a burst of enrollments). An operator's ask has no jitter.</summary>
public sealed record RenewAsk(DateTimeOffset? Deadline, TimeSpan Jitter)
{
    public static readonly RenewAsk Now = new(null, TimeSpan.Zero);

    /// <summary>The wait before rotating: uniform in the jitter, never past the deadline.</summary>
    public TimeSpan Delay(DateTimeOffset now)
    {
        var delay = Jitter * Random.Shared.NextDouble();
        return Deadline is { } deadline && now + delay > deadline ? TimeSpan.Zero : delay;
    }

    /// <summary>The command's JSON (<c>{"deadline": "…", "jitterSeconds": 30}</c>); what cannot be read means now.</summary>
    public static RenewAsk Parse(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var json = JsonDocument.Parse(payload.ToArray());
            var root = json.RootElement;
            DateTimeOffset? deadline = root.TryGetProperty("deadline", out var d) && d.ValueKind == JsonValueKind.String && d.TryGetDateTimeOffset(out var at) ? at : null;
            var jitter = root.TryGetProperty("jitterSeconds", out var j) && j.TryGetInt32(out var seconds) ? Math.Clamp(seconds, 0, 86_400) : 0;
            return new RenewAsk(deadline, TimeSpan.FromSeconds(jitter));
        }
        catch (JsonException)
        {
            // An ask whose payload we cannot read is still an ask: renew now rather than ignore the server.
            return Now;
        }
    }
}
