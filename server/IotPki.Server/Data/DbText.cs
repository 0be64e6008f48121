namespace IotPki.Server.Data;

/// <summary>Text from the network on its way into a row: PostgreSQL refuses a NUL character in text, and one hostile
/// string must not cost the row (or the batch) it is written with. A NUL becomes U+FFFD; nothing else changes.</summary>
public static class DbText
{
    public static string Clean(string text) => text.Contains('\0') ? text.Replace('\0', '\uFFFD') : text;

    public static string? CleanOrNull(string? text) => text is null ? null : Clean(text);
}
