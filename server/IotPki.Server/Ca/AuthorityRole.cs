namespace IotPki.Server.Ca;

public static class AuthorityRole
{
    public const string Root = "root";
    public const string Issuing = "issuing";
    public const string DemoManufacturer = "demo-manufacturer";
    public const string DemoManufacturerName = "demo";

    /// <summary>The first issuing CA is <c>issuing</c>; each one a rollover makes is <c>issuing-</c> and the first 16 hex
    /// digits of its subject key identifier.</summary>
    public static bool IsIssuing(string role) => role == Issuing || role.StartsWith(Issuing + "-", StringComparison.Ordinal);

    /// <summary>Certificate rows with no recorded issuer (from before rollover) were all signed by the first issuing CA.</summary>
    public static bool OwnsUnrecordedCertificates(string role) => role == Issuing;

    public static string IssuingRoleFor(string subjectKeyId) => $"{Issuing}-{subjectKeyId[..16]}";
}
