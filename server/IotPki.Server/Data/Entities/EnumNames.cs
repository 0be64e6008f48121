namespace IotPki.Server.Data.Entities;

/// <summary>The names an enum's values are stored and shown by (<c>active</c>, <c>at-risk</c>), and back.</summary>
public sealed class EnumNames<T>(Func<T, string> nameOf) where T : struct, Enum
{
    public IReadOnlyList<T> All { get; } = Enum.GetValues<T>();

    public bool TryParse(string? name, out T value)
    {
        foreach (var candidate in All)
        {
            if (nameOf(candidate) == name)
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }

    public T Parse(string name) =>
        TryParse(name, out var value) ? value : throw new FormatException($"'{name}' is not a {typeof(T).Name}.");
}
