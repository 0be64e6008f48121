using System.Text;

namespace IotPki.Pki.Keys;

/// <summary>The RFC 7512 URI of a key in a token: <c>pkcs11:token=LABEL;object=LABEL;id=%AB%CD...</c>.
/// Only the attributes we write are read back; anything else is refused.</summary>
public sealed record Pkcs11Uri(string Token, string Object, byte[] Id)
{
    public const string Scheme = "pkcs11:";

    public override string ToString() =>
        $"{Scheme}token={Escape(Encoding.UTF8.GetBytes(Token))};object={Escape(Encoding.UTF8.GetBytes(Object))};id={Escape(Id)}";

    public static Pkcs11Uri Parse(string uri)
    {
        if (!uri.StartsWith(Scheme, StringComparison.Ordinal))
        {
            throw new FormatException("Not a pkcs11: URI.");
        }
        string? token = null, label = null;
        byte[]? id = null;
        foreach (var part in uri[Scheme.Length..].Split(';'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new FormatException($"Malformed pkcs11: URI attribute '{part}'.");
            }
            var value = Unescape(part[(eq + 1)..]);
            switch (part[..eq])
            {
                case "token": token = Encoding.UTF8.GetString(value); break;
                case "object": label = Encoding.UTF8.GetString(value); break;
                case "id": id = value; break;
                default: throw new FormatException($"Unsupported pkcs11: URI attribute '{part[..eq]}'.");
            }
        }
        return new Pkcs11Uri(
            token ?? throw new FormatException("The pkcs11: URI names no token."),
            label ?? "",
            id is { Length: > 0 } ? id : throw new FormatException("The pkcs11: URI names no key id."));
    }

    private static string Escape(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            var unreserved = b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_';
            text.Append(unreserved ? ((char)b).ToString() : $"%{b:X2}");
        }
        return text.ToString();
    }

    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length || !byte.TryParse(text.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
                {
                    throw new FormatException("Malformed percent escape in pkcs11: URI.");
                }
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }
        return [.. bytes];
    }
}
