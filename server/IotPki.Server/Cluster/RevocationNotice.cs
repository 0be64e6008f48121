using System.Text.Json;
using IotPki.Identity;
using IotPki.Server.Data.Entities;

namespace IotPki.Server.Cluster;

/// <summary>What a revocation tells every server instance over PostgreSQL NOTIFY (channel <see cref="Channel"/>).</summary>
/// <param name="KeepSessions">Superseded certificates: refuse their future connects but close no session (the device's
/// session is already its newer certificate's, under the same client id).</param>
/// <param name="TraceParent">The W3C trace context of the revocation, so that each instance's closing of the sessions
/// joins its trace.</param>
public sealed record RevocationNotice(DeviceId? DeviceId, DeviceState? DeviceState, string[] Serials, bool KeepSessions = false,
    string? TraceParent = null)
{
    public const string Channel = "iotpki_revocation";

    // NOTIFY payloads are limited to 8000 bytes; past this many serials a notice carries the device only and the
    // listeners reload.
    public const int MaxSerials = 100;

    public string ToJson() => JsonSerializer.Serialize(this);

    public static RevocationNotice? Parse(string payload)
    {
        try
        {
            return JsonSerializer.Deserialize<RevocationNotice>(payload);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }
    }
}
