using IotPki.Identity;
using IotPki.Pki;
using IotPki.Server.Broker;

namespace IotPki.Server.Tests.Broker;

/// <summary>The topic rules themselves, case by case (the broker tests show them applied over real connections).</summary>
public sealed class TopicAclTests
{
    private static readonly BrokerIdentity Device = new(new SpiffeId("iotpki.local", CertificateKind.Operational, "dev-001"), DeviceId.Parse("dev-001"), "01");
    private static readonly BrokerIdentity Service = new(new SpiffeId("iotpki.local", CertificateKind.Service, "backend"), null, "02");

    [Theory]
    [InlineData("devices/dev-001/telemetry", true)]
    [InlineData("devices/dev-001/state", true)]
    [InlineData("devices/dev-001/telemetry/engine", true)]
    [InlineData("devices/dev-002/telemetry", false)]
    [InlineData("devices/dev-001/commands/renew", false)]
    [InlineData("devices/dev-001", false)]
    [InlineData("devices/dev-001/", false)]
    [InlineData("devices/+/telemetry", false)]
    [InlineData("devices/dev-001/#", false)]
    [InlineData("$SYS/broker/clients", false)]
    [InlineData("other/dev-001/telemetry", false)]
    [InlineData("devices//telemetry", false)]
    public void A_device_publishes_only_under_its_own_topics(string topic, bool allowed) =>
        Assert.Equal(allowed, TopicAcl.MayPublish(Device, topic));

    [Theory]
    [InlineData("devices/dev-001/commands/#", true)]
    [InlineData("devices/dev-001/commands/renew", true)]
    [InlineData("devices/dev-001/commands/+", true)]
    [InlineData("devices/dev-002/commands/#", false)]
    [InlineData("devices/+/commands/#", false)]
    [InlineData("devices/#", false)]
    [InlineData("#", false)]
    [InlineData("devices/dev-001/#", false)]
    [InlineData("devices/dev-001/telemetry", false)]
    [InlineData("$SYS/#", false)]
    [InlineData("$share/g/devices/dev-001/commands/#", false)]
    [InlineData("devices/dev-001/commands/#/x", false)]
    [InlineData("devices/dev-001/commands/re+", false)]
    public void A_device_subscribes_only_to_its_own_commands(string filter, bool allowed) =>
        Assert.Equal(allowed, TopicAcl.MaySubscribe(Device, filter));

    [Theory]
    [InlineData("devices/+/telemetry", true)]
    [InlineData("devices/dev-001/telemetry", true)]
    [InlineData("devices/+/state", true)]
    [InlineData("devices/#", false)]
    [InlineData("#", false)]
    [InlineData("devices/+/commands/#", false)]
    [InlineData("devices/dev-001/commands/#", false)]
    [InlineData("$SYS/#", false)]
    public void A_service_subscribes_to_telemetry_not_to_commands(string filter, bool allowed) =>
        Assert.Equal(allowed, TopicAcl.MaySubscribe(Service, filter));

    [Theory]
    [InlineData("devices/dev-001/commands/renew", true)]
    [InlineData("devices/dev-001/commands", false)]
    [InlineData("devices/+/commands/renew", false)]
    [InlineData("devices/dev-001/telemetry", false)]
    [InlineData("$SYS/x", false)]
    public void A_service_publishes_commands_only_and_never_impersonates_a_device(string topic, bool allowed) =>
        Assert.Equal(allowed, TopicAcl.MayPublish(Service, topic));
}
