using System.Buffers.Binary;
using System.Formats.Asn1;

namespace IotPki.Pki;

/// <summary>The <c>revokedCertificates</c> SEQUENCE of a CRL (RFC 5280 §5.1.2.6), DER written directly into one buffer
/// sized for the largest entry: a million entries in a fraction of a second. <see cref="AsnWriter"/> spent over two
/// seconds on the same million, most of it in <c>WriteEnumeratedValue</c> (reflection on the enum type per call).</summary>
public static class RevokedCertificatesEncoder
{
    private const byte Sequence = 0x30;
    private const byte Integer = 0x02;
    private const byte UtcTime = 0x17;
    private const byte GeneralizedTime = 0x18;

    /// <summary>SEQUENCE header 2, INTEGER up to 2 + 21 (a 20-byte serial and its sign byte), GeneralizedTime 2 + 15,
    /// reason extension 14.</summary>
    public const int MaxBytesPerEntry = 56;

    private const int MaxSerialBytes = 20;

    /// <summary>crlEntryExtensions holding only the reason code, by code: SEQUENCE { SEQUENCE { id-ce-cRLReasons,
    /// OCTET STRING { ENUMERATED code } } }.</summary>
    private static readonly byte[]?[] ReasonExtensions = [.. Enumerable.Range(0, 11).Select(ReasonExtension)];

    public static byte[] Encode(IReadOnlyCollection<RevokedCertificate> entries)
    {
        // Room for the outer header (tag and up to 5 length bytes) ahead of the content, filled in at the end.
        const int Header = 6;
        var buffer = new byte[Header + entries.Count * MaxBytesPerEntry];
        var at = Header;
        Span<byte> serial = stackalloc byte[MaxSerialBytes];
        foreach (var entry in entries)
        {
            if (entry.SerialHex.Length > 2 * MaxSerialBytes
                || Convert.FromHexString(entry.SerialHex, serial, out _, out var serialLength) != System.Buffers.OperationStatus.Done)
            {
                throw new FormatException($"Serial '{entry.SerialHex}' is not at most {MaxSerialBytes} bytes of hex (RFC 5280 §4.1.2.2).");
            }
            at = WriteEntry(buffer, at, serial[..serialLength], entry);
        }
        var contentLength = at - Header;
        var lengthBytes = contentLength < 0x80 ? 1 : 1 + SignificantBytes(contentLength);
        var start = Header - 1 - lengthBytes;
        buffer[start] = Sequence;
        WriteLength(buffer.AsSpan(start + 1, lengthBytes), contentLength);
        return buffer[start..at];
    }

    private static int WriteEntry(byte[] buffer, int at, ReadOnlySpan<byte> serial, RevokedCertificate entry)
    {
        var sequenceAt = at;
        at += 2;
        // INTEGER, unsigned: leading zero bytes dropped, a sign byte added when the high bit is set.
        var first = 0;
        while (first < serial.Length - 1 && serial[first] == 0)
        {
            first++;
        }
        var value = serial[first..];
        var pad = value[0] >= 0x80 ? 1 : 0;
        buffer[at++] = Integer;
        buffer[at++] = (byte)(value.Length + pad);
        if (pad == 1)
        {
            buffer[at++] = 0;
        }
        value.CopyTo(buffer.AsSpan(at));
        at += value.Length;
        at = WriteTime(buffer, at, entry.RevokedAt);
        if (entry.EncodableReason is { } reason && ReasonExtensions[reason] is { } extension)
        {
            extension.CopyTo(buffer, at);
            at += extension.Length;
        }
        buffer[sequenceAt] = Sequence;
        buffer[sequenceAt + 1] = (byte)(at - sequenceAt - 2);
        return at;
    }

    /// <summary>RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050, to the second, in UTC.</summary>
    private static int WriteTime(byte[] buffer, int at, DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var generalized = utc.Year >= 2050;
        buffer[at++] = generalized ? GeneralizedTime : UtcTime;
        buffer[at++] = (byte)(generalized ? 15 : 13);
        if (generalized)
        {
            at = Digits(buffer, at, utc.Year / 100);
        }
        at = Digits(buffer, at, utc.Year % 100);
        at = Digits(buffer, at, utc.Month);
        at = Digits(buffer, at, utc.Day);
        at = Digits(buffer, at, utc.Hour);
        at = Digits(buffer, at, utc.Minute);
        at = Digits(buffer, at, utc.Second);
        buffer[at++] = (byte)'Z';
        return at;
    }

    private static int Digits(byte[] buffer, int at, int twoDigits)
    {
        buffer[at] = (byte)('0' + twoDigits / 10);
        buffer[at + 1] = (byte)('0' + twoDigits % 10);
        return at + 2;
    }

    private static int SignificantBytes(int value) => 4 - System.Numerics.BitOperations.LeadingZeroCount((uint)value) / 8;

    private static void WriteLength(Span<byte> destination, int length)
    {
        if (destination.Length == 1)
        {
            destination[0] = (byte)length;
            return;
        }
        Span<byte> bigEndian = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bigEndian, length);
        destination[0] = (byte)(0x80 | (destination.Length - 1));
        bigEndian[(4 - (destination.Length - 1))..].CopyTo(destination[1..]);
    }

    private static byte[]? ReasonExtension(int code)
    {
        if (new RevokedCertificate("00", DateTimeOffset.UnixEpoch, code).EncodableReason is null)
        {
            return null;
        }
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("2.5.29.21");
            using (writer.PushOctetString())
            {
                writer.WriteEnumeratedValue((System.Security.Cryptography.X509Certificates.X509RevocationReason)code);
            }
        }
        return writer.Encode();
    }
}
