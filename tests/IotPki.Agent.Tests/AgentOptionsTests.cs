namespace IotPki.Agent.Tests;

public sealed class AgentOptionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("iotpki-agent-options-").FullName;

    [Fact]
    public void The_config_file_is_read_relative_to_itself_and_IOTPKI_AGENT_variables_override_it()
    {
        var path = Path.Combine(_directory, "agent.json");
        File.WriteAllText(path, """
            {
              // comments are allowed
              "EstUrl": "https://pki.example:8443/",
              "BrokerUrl": "mqtts://pki.example:8883",
              "TrustBundlePath": "ca.pem",
              "BootstrapCertificatePath": "/etc/iotpki/bootstrap.crt",
              "BootstrapKeyPath": "bootstrap.key",
              "StateDirectory": "state",
              "RenewalFraction": 0.5,
              "BrokerFallbackUrls": ["mqtts://b.pki.example:8883", "mqtts://c.pki.example:8883"],
            }
            """);

        var options = AgentOptions.Load(path, new Dictionary<string, string?>
        {
            ["IOTPKI_AGENT_BROKER_URL"] = "mqtts://other.example:9883",
            ["IOTPKI_AGENT_RENEWAL_JITTER"] = "0.1",
            ["IOTPKI_AGENT_EST_FALLBACK_URLS"] = "https://b.pki.example:8443/, https://c.pki.example:8443/",
            ["UNRELATED"] = "x",
        });

        Assert.Equal(new Uri("https://pki.example:8443/"), options.EstUrl);
        Assert.Equal(new Uri("mqtts://other.example:9883"), options.BrokerUrl);
        Assert.Equal(Path.Combine(_directory, "ca.pem"), options.TrustBundlePath);
        Assert.Equal("/etc/iotpki/bootstrap.crt", options.BootstrapCertificatePath);
        Assert.Equal(Path.Combine(_directory, "state"), options.StateDirectory);
        Assert.Equal(0.5, options.RenewalFraction);
        Assert.Equal(0.1, options.RenewalJitter);
        Assert.Equal(IotPki.Identity.DeviceIdField.CommonName, options.DeviceIdField);
        Assert.Equal([new Uri("https://b.pki.example:8443/"), new Uri("https://c.pki.example:8443/")], options.EstFallbackUrls);
        Assert.Equal([new Uri("mqtts://b.pki.example:8883"), new Uri("mqtts://c.pki.example:8883")], options.BrokerFallbackUrls);
    }

    [Fact]
    public void The_device_id_field_names_the_manufacturers_attribute()
    {
        var options = new AgentOptions();
        options.Set("DeviceIdField", "serialNumber");
        Assert.Equal(IotPki.Identity.DeviceIdField.SerialNumber, options.DeviceIdField);
    }

    [Theory]
    [InlineData("EstUrl", "http://plain.example/", "EstUrl must be an https URL.")]
    [InlineData("RenewalFraction", "1.5", "RenewalFraction must be between 0 and 1.")]
    [InlineData("StateDirectory", "", "StateDirectory is required.")]
    [InlineData("EST_FALLBACK_URLS", "https://b.example/,http://c.example/", "EstFallbackUrls must be https URLs.")]
    [InlineData("BROKER_FALLBACK_URLS", "[\"mqtts://b.example\"", "A list of URLs must be a JSON array of strings or comma-separated, not '[\"mqtts://b.example\"'.")]
    [InlineData("DEVICE_ID_FIELD", "uid", "Option 'DEVICEIDFIELD' must be cn or serialNumber, not 'uid'.")]
    public void Bad_configuration_is_refused_with_the_option_named(string name, string value, string message)
    {
        var path = Path.Combine(_directory, "agent.json");
        File.WriteAllText(path, """{"EstUrl":"https://pki.example/","TrustBundlePath":"ca.pem","BootstrapCertificatePath":"b.crt","BootstrapKeyPath":"b.key","StateDirectory":"s"}""");

        var error = Assert.Throws<AgentConfigurationException>(() =>
            AgentOptions.Load(path, new Dictionary<string, string?> { ["IOTPKI_AGENT_" + name] = value }));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Backoff_doubles_up_to_its_ceiling_with_jitter()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
        var waits = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalMilliseconds).ToList();

        Assert.InRange(waits[0], 50, 100);
        Assert.InRange(waits[1], 100, 200);
        Assert.InRange(waits[2], 200, 400);
        Assert.All(waits.Skip(4), w => Assert.InRange(w, 500, 1000));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
