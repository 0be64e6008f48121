using IotPki.Identity;
using IotPki.Pki;

namespace IotPki.Pki.Tests;

public sealed class DeviceIdTests
{
    [Theory]
    [InlineData("dev-0001")]
    [InlineData("a1b")]
    [InlineData("sensor.floor-2_room9")]
    public void Valid_ids_parse(string s) => Assert.True(DeviceId.TryParse(s, out var id) && id.Value == s);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("ab")]
    [InlineData("-leading-dash")]
    [InlineData("UPPER")]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    [InlineData("plus+wildcard")]
    [InlineData("hash#wildcard")]
    public void Invalid_ids_are_refused(string? s) => Assert.False(DeviceId.TryParse(s, out _));

    [Fact]
    public void Ids_longer_than_64_characters_are_refused()
    {
        Assert.True(DeviceId.TryParse("a" + new string('b', 63), out _));
        Assert.False(DeviceId.TryParse("a" + new string('b', 64), out _));
    }
}
