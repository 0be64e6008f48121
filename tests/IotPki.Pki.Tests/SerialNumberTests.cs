using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class SerialNumberTests
{
    [Fact]
    public void Serials_are_16_bytes_positive_and_distinct()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            var serial = SerialNumber.NewSerial();
            Assert.Equal(16, serial.Length);
            Assert.Equal(0, serial[0] & 0x80);
            Assert.NotEqual(0, serial[0]);
            Assert.True(seen.Add(SerialNumber.ToHex(serial)));
        }
    }
}
