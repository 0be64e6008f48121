using System.Text.Json;
using System.Text.Json.Serialization;

namespace IotPki.Server.Data.Entities;

/// <summary>Where a device's current certificate is in its renewal cycle; stored and shown as the kebab-case name
/// (<c>at-risk</c>).</summary>
[JsonConverter(typeof(RenewalStatusJsonConverter))]
public enum RenewalStatus
{
    /// <summary>Enrolled; the server will ask at the slot it picked inside the renewal window.</summary>
    Scheduled,
    /// <summary>Asked to renew (over MQTT, now or when it next connects); not renewed yet.</summary>
    Asked,
    /// <summary>Its current certificate came from a renewal; the next cycle starts at the next slot.</summary>
    Renewed,
    /// <summary>Past the at-risk fraction of the certificate's lifetime without renewing.</summary>
    AtRisk,
    /// <summary>Past notAfter without renewing: the broker refuses it, only bootstrap enrollment brings it back.</summary>
    Expired,
}

public static class RenewalStatusNames
{
    private static readonly EnumNames<RenewalStatus> Names = new(Name);

    public static IReadOnlyList<RenewalStatus> All => Names.All;

    public static string Name(this RenewalStatus status) => status switch
    {
        RenewalStatus.Scheduled => "scheduled",
        RenewalStatus.Asked => "asked",
        RenewalStatus.Renewed => "renewed",
        RenewalStatus.AtRisk => "at-risk",
        RenewalStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? name, out RenewalStatus value) => Names.TryParse(name, out value);

    public static RenewalStatus Parse(string name) => Names.Parse(name);
}

public sealed class RenewalStatusJsonConverter() : JsonStringEnumConverter<RenewalStatus>(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false);
