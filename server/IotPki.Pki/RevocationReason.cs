namespace IotPki.Pki;

/// <summary>RFC 5280 CRLReason codes by name.</summary>
public static class RevocationReason
{
    private static readonly Dictionary<string, int> Codes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["unspecified"] = 0,
        ["keyCompromise"] = 1,
        ["cACompromise"] = 2,
        ["affiliationChanged"] = 3,
        ["superseded"] = 4,
        ["cessationOfOperation"] = 5,
        ["certificateHold"] = 6,
        ["privilegeWithdrawn"] = 9,
        ["aACompromise"] = 10,
    };

    public static IEnumerable<string> Names => Codes.Keys;

    public static bool TryParse(string? name, out int code) => Codes.TryGetValue(name ?? "unspecified", out code);
}
