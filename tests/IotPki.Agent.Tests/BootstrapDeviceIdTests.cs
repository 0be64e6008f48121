using IotPki.Agent.Tests.Infrastructure;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Agent.Tests;

/// <summary>The agent reads its device id from the bootstrap certificate with the server's own rule: the attribute the
/// manufacturer registered, lower-cased. (It used to take serialNumber when present, else CN, and keep the case, so
/// these devices were refused with identity_mismatch.)</summary>
public sealed class BootstrapDeviceIdTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_bootstrap_that_names_the_device_in_upper_case_enrolls_as_its_lower_case_id()
    {
        using var device = await AgentHarness.CreateAsync(server, "upper-0001", bootstrapSubject: "CN=UPPER-0001, O=IotPki Demo Manufacturer");

        await device.RunUntilReadyAsync(device.Options());

        using var identity = device.AssertUsableIdentity();
        Assert.Equal("CN=upper-0001", identity.Certificate.Subject);
        Assert.True(await server.WithDbAsync(db => db.EnrollmentAttempts.AnyAsync(a =>
            a.DeviceId == IotPki.Identity.DeviceId.Parse("upper-0001") && a.Outcome == "issued")));
    }

    [Fact]
    public async Task A_bootstrap_with_both_a_cn_and_a_serial_number_is_read_from_the_attribute_the_manufacturer_registered()
    {
        // The demo manufacturer registered "cn": the serialNumber is the board's, not the device id.
        using var device = await AgentHarness.CreateAsync(server, "both-0001",
            bootstrapSubject: "CN=both-0001, SERIALNUMBER=BOARD-77, O=IotPki Demo Manufacturer");

        await device.RunUntilReadyAsync(device.Options());

        using var identity = device.AssertUsableIdentity();
        Assert.False(await server.WithDbAsync(db => db.EnrollmentAttempts.AnyAsync(a =>
            a.DeviceId == IotPki.Identity.DeviceId.Parse("both-0001") && a.Reason == "identity_mismatch")));
    }
}
