using System.Text;

namespace IotPki.Tests.Shared;

/// <summary>Structure-aware mutation of a valid DER (or text) sample, deterministic by seed: what a fuzzer sends a
/// parser. The DER mutations walk the tag-length-value tree, so lengths, tags and nesting are hit, not only bytes.</summary>
public static class InputMutations
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF, 0x30, 0x31, 0x05, 0x0C];
    private static readonly byte[] Tags = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x16, 0x17, 0x30, 0x31, 0xA0, 0xA3, 0x80, 0x1F];

    /// <summary>One to four mutations of <paramref name="sample"/>, chosen by <paramref name="seed"/>.</summary>
    public static byte[] MutateDer(byte[] sample, int seed)
    {
        var random = new Random(seed);
        var data = sample.ToList();
        var rounds = 1 + random.Next(4);
        for (var i = 0; i < rounds && data.Count > 0; i++)
        {
            var nodes = Nodes(data);
            var node = nodes.Count == 0 ? (Offset: 0, HeaderLength: 1, ContentLength: 0) : nodes[random.Next(nodes.Count)];
            switch (random.Next(10))
            {
                case 0:
                    data[random.Next(data.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[random.Next(data.Count)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case 2:  // truncated
                    var keep = random.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                    break;
                case 3:  // the length of a node: off by one, indefinite, or far too long
                    if (node.Offset + 1 < data.Count)
                    {
                        var length = node.Offset + 1;
                        data[length] = random.Next(4) switch { 0 => (byte)(data[length] + 1), 1 => (byte)(data[length] - 1), 2 => 0x80, _ => 0x84 };
                    }
                    break;
                case 4:
                    data[node.Offset] = Tags[random.Next(Tags.Length)];
                    break;
                case 5:  // a node twice
                    var whole = node.HeaderLength + node.ContentLength;
                    if (node.Offset + whole <= data.Count && whole < 4096)
                    {
                        data.InsertRange(node.Offset + whole, data.GetRange(node.Offset, whole));
                    }
                    break;
                case 6:  // a node gone
                    var gone = Math.Min(node.HeaderLength + node.ContentLength, data.Count - node.Offset);
                    data.RemoveRange(node.Offset, gone);
                    break;
                case 7:
                    var insert = new byte[1 + random.Next(16)];
                    random.NextBytes(insert);
                    data.InsertRange(random.Next(data.Count + 1), insert);
                    break;
                case 8:  // a NUL, or a byte that is not text, inside a node's content
                    if (node.ContentLength > 0 && node.Offset + node.HeaderLength < data.Count)
                    {
                        data[Math.Min(data.Count - 1, node.Offset + node.HeaderLength + random.Next(node.ContentLength))] = random.Next(2) == 0 ? (byte)0 : (byte)0xC3;
                    }
                    break;
                default:  // a long form length where the short one is due (BER, not DER)
                    if (node.Offset + 1 < data.Count && data[node.Offset + 1] < 0x80)
                    {
                        data.Insert(node.Offset + 1, 0x81);
                    }
                    break;
            }
        }
        return [.. data];
    }

    /// <summary>Mutations of a text sample (JSON, CSV, a query string): characters replaced, inserted, removed,
    /// repeated, and the ones parsers stumble on (NUL, quotes, separators, non-ASCII, lone surrogates).</summary>
    public static string MutateText(string sample, int seed)
    {
        string[] nasty = ["\0", "\"", "'", ",", ";", "\n", "\r\n", "\\", "{", "}", "[", "]", ":", "%00", "%", "&", "=", "é", "\uD800", "𝄞",
            "null", "true", "-1", "1e999", "99999999999999999999", "\t", " ", "<", ">", "..", "/"];
        var random = new Random(seed);
        var text = new StringBuilder(sample);
        var rounds = 1 + random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            var at = text.Length == 0 ? 0 : random.Next(text.Length);
            switch (random.Next(5))
            {
                case 0:
                    text.Insert(at, nasty[random.Next(nasty.Length)]);
                    break;
                case 1 when text.Length > 0:
                    text.Remove(at, Math.Min(1 + random.Next(8), text.Length - at));
                    break;
                case 2 when text.Length > 0:
                    text[at] = nasty[random.Next(nasty.Length)][0];
                    break;
                case 3 when text.Length > 0:
                    var piece = text.ToString(at, Math.Min(1 + random.Next(16), text.Length - at));
                    text.Insert(at, string.Concat(Enumerable.Repeat(piece, 1 + random.Next(64))));
                    break;
                default:
                    text.Insert(at, (char)random.Next(0x20, 0x7F));
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>The TLV nodes of a DER buffer, depth first, as far as it parses.</summary>
    private static List<(int Offset, int HeaderLength, int ContentLength)> Nodes(List<byte> data)
    {
        var nodes = new List<(int, int, int)>();
        Walk(data, 0, data.Count, nodes, 0);
        return nodes;
    }

    private static void Walk(List<byte> data, int start, int end, List<(int, int, int)> nodes, int depth)
    {
        var at = start;
        while (at + 2 <= end && depth < 16 && nodes.Count < 2048)
        {
            var tag = data[at];
            int length = data[at + 1], header = 2;
            if (length > 0x80)
            {
                var count = length & 0x7F;
                if (count > 3 || at + 2 + count > end)
                {
                    return;
                }
                length = 0;
                for (var i = 0; i < count; i++)
                {
                    length = (length << 8) | data[at + 2 + i];
                }
                header += count;
            }
            else if (length == 0x80)
            {
                return;
            }
            if (at + header + length > end)
            {
                return;
            }
            nodes.Add((at, header, length));
            if ((tag & 0x20) != 0)
            {
                Walk(data, at + header, at + header + length, nodes, depth + 1);
            }
            at += header + length;
        }
    }
}
