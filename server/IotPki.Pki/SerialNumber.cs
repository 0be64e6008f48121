using System.Security.Cryptography;

namespace IotPki.Pki;

/// <summary>Random 16-byte certificate serial numbers, positive and without a leading zero byte.</summary>
public static class SerialNumber
{
    public const int Length = 16;

    public static byte[] NewSerial()
    {
        var bytes = RandomNumberGenerator.GetBytes(Length);
        // DER INTEGER is signed: clear the top bit so the serial is positive, and keep the first byte
        // non-zero so the encoding is exactly 16 bytes long.
        bytes[0] = (byte)((bytes[0] & 0x7F) | 0x01);
        return bytes;
    }

    public static string ToHex(ReadOnlySpan<byte> serial) => Convert.ToHexStringLower(serial);
}
