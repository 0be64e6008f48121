using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using IotPki.Identity;

namespace IotPki.Server.Devices;

/// <summary>A certificate's renewal window and the server's slot for it: the window opens at
/// <c>windowStart</c> of the lifetime, the device is at risk at <c>atRisk</c>; the slot lies in the first half of the
/// window at a point fixed by a hash of the device id and serial. Every instance, every restart and every outage
/// computes the same slot, so asks spread over the window and never bunch up after a pause.</summary>
public readonly record struct RenewalWindow(DateTimeOffset OpensAt, DateTimeOffset SlotAt, DateTimeOffset AtRiskAt)
{
    public static RenewalWindow For(DeviceId deviceId, string serial, DateTimeOffset notBefore, DateTimeOffset notAfter,
        double windowStart, double atRisk)
    {
        var lifetime = notAfter - notBefore;
        var opens = notBefore + lifetime * windowStart;
        var risk = notBefore + lifetime * atRisk;
        return new RenewalWindow(opens, opens + (risk - opens) / 2 * Spread(deviceId, serial), risk);
    }

    /// <summary>A fraction in [0, 1) that is the same wherever it is computed.</summary>
    private static double Spread(DeviceId deviceId, string salt)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{deviceId.Value}/{salt}"), hash);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
    }
}
