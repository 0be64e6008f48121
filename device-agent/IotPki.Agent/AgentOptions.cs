using System.Globalization;
using System.Text.Json;
using IotPki.Identity;

namespace IotPki.Agent;

/// <summary>What the agent needs to know: where EST and the broker are, what to trust, where the bootstrap identity
/// and the state directory live, and when to renew. Loaded from a JSON file, overridden by <c>IOTPKI_AGENT_*</c>.</summary>
public sealed class AgentOptions
{
    public const string EnvironmentPrefix = "IOTPKI_AGENT_";

    /// <summary>Base of the EST service, e.g. <c>https://pki.example:8443/.well-known/est/</c> (the well-known path is added when missing).</summary>
    public Uri? EstUrl { get; set; }
    /// <summary><c>mqtts://host:8883</c>; without it the agent proves a new identity by verifying it locally.</summary>
    public Uri? BrokerUrl { get; set; }
    /// <summary>Other server instances, tried in turn when the one in use cannot be reached: a comma-separated list
    /// or a JSON array.</summary>
    public IReadOnlyList<Uri> EstFallbackUrls { get; set; } = [];
    public IReadOnlyList<Uri> BrokerFallbackUrls { get; set; } = [];
    public string TrustBundlePath { get; set; } = "";
    public string BootstrapCertificatePath { get; set; } = "";
    public string BootstrapKeyPath { get; set; } = "";
    public string StateDirectory { get; set; } = "";
    /// <summary>Fraction of the certificate lifetime after which the agent renews (default 2/3).</summary>
    public double RenewalFraction { get; set; } = 2.0 / 3.0;
    /// <summary>Random spread around the renewal instant, as a fraction of the lifetime.</summary>
    public double RenewalJitter { get; set; } = 0.05;
    /// <summary>Clock skew tolerated when the agent checks validity locally.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Let the server make each new key (EST <c>serverkeygen</c>) for a device without a good source of
    /// randomness; by default the key is made on the device and never leaves it.</summary>
    public bool ServerKeyGeneration { get; set; }
    /// <summary>The subject attribute of the bootstrap certificate that holds the device id, as the manufacturer
    /// registered it with the service (<c>cn</c> or <c>serialNumber</c>); read with the server's own rule.</summary>
    public DeviceIdField DeviceIdField { get; set; } = DeviceIdField.CommonName;
    public TimeSpan BackoffInitial { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How often the connected agent publishes a reading on <c>devices/&lt;id&gt;/telemetry</c>; none when unset.</summary>
    public TimeSpan? TelemetryInterval { get; set; }
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromMinutes(5);

    public static AgentOptions Load(string? path, IDictionary<string, string?>? environment = null)
    {
        var options = new AgentOptions();
        if (path is not null)
        {
            using var stream = File.OpenRead(path);
            using var json = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            foreach (var property in json.RootElement.EnumerateObject())
            {
                options.Set(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText());
            }
            options.ResolveRelativePaths(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        var env = environment ?? Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        foreach (var (key, value) in env)
        {
            if (key.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && value is not null)
            {
                options.Set(key[EnvironmentPrefix.Length..].Replace("_", "", StringComparison.Ordinal), value);
            }
        }
        options.Validate();
        return options;
    }

    /// <summary>Sets one option by its name, case and underscores ignored (<c>EstUrl</c>, <c>EST_URL</c>).</summary>
    public void Set(string name, string? value)
    {
        value ??= "";
        switch (name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant())
        {
            case "esturl": EstUrl = new Uri(value); break;
            case "brokerurl": BrokerUrl = value.Length == 0 ? null : new Uri(value); break;
            case "estfallbackurls": EstFallbackUrls = ParseUrls(value); break;
            case "brokerfallbackurls": BrokerFallbackUrls = ParseUrls(value); break;
            case "trustbundlepath" or "trustbundle": TrustBundlePath = value; break;
            case "bootstrapcertificatepath" or "bootstrapcertpath" or "bootstrapcert": BootstrapCertificatePath = value; break;
            case "bootstrapkeypath" or "bootstrapkey": BootstrapKeyPath = value; break;
            case "statedirectory" or "statedir": StateDirectory = value; break;
            case "renewalfraction": RenewalFraction = double.Parse(value, CultureInfo.InvariantCulture); break;
            case "renewaljitter": RenewalJitter = double.Parse(value, CultureInfo.InvariantCulture); break;
            case "clockskew": ClockSkew = TimeSpan.Parse(value, CultureInfo.InvariantCulture); break;
            case "serverkeygeneration" or "serverkeygen": ServerKeyGeneration = ParseBool(name, value); break;
            case "deviceidfield": DeviceIdField = BootstrapIdentity.TryParseField(value, out var field) ? field
                : throw new AgentConfigurationException($"Option '{name}' must be cn or serialNumber, not '{value}'."); break;
            case "backoffinitial": BackoffInitial = TimeSpan.Parse(value, CultureInfo.InvariantCulture); break;
            case "backoffmax": BackoffMax = TimeSpan.Parse(value, CultureInfo.InvariantCulture); break;
            case "telemetryinterval": TelemetryInterval = value.Length == 0 ? null : TimeSpan.Parse(value, CultureInfo.InvariantCulture); break;
            default: throw new AgentConfigurationException($"Unknown agent option '{name}'.");
        }
    }

    private static Uri[] ParseUrls(string value)
    {
        string[] items;
        if (value.TrimStart().StartsWith('['))
        {
            try
            {
                using var json = JsonDocument.Parse(value);
                items = [.. json.RootElement.EnumerateArray().Select(e => e.GetString() ?? "")];
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new AgentConfigurationException($"A list of URLs must be a JSON array of strings or comma-separated, not '{value}'.");
            }
        }
        else
        {
            items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        return [.. items.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri
            : throw new AgentConfigurationException($"'{u}' is not an absolute URL."))];
    }

    private static bool ParseBool(string name, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" or "" => false,
        _ => throw new AgentConfigurationException($"Option '{name}' must be true or false, not '{value}'."),
    };

    public void Validate()
    {
        if (EstUrl is null || EstUrl.Scheme != Uri.UriSchemeHttps)
        {
            throw new AgentConfigurationException("EstUrl must be an https URL.");
        }
        if (EstFallbackUrls.Any(u => u.Scheme != Uri.UriSchemeHttps))
        {
            throw new AgentConfigurationException("EstFallbackUrls must be https URLs.");
        }
        if (BrokerUrl is not null && BrokerUrl.Scheme is not ("mqtts" or "ssl" or "tls"))
        {
            throw new AgentConfigurationException("BrokerUrl must be an mqtts:// URL.");
        }
        if (BrokerFallbackUrls.Any(u => u.Scheme is not ("mqtts" or "ssl" or "tls")) || (BrokerUrl is null && BrokerFallbackUrls.Count > 0))
        {
            throw new AgentConfigurationException("BrokerFallbackUrls must be mqtts:// URLs, beside a BrokerUrl.");
        }
        if (TelemetryInterval is { } every && every < TimeSpan.FromSeconds(1))
        {
            throw new AgentConfigurationException("TelemetryInterval must be at least one second.");
        }
        foreach (var (name, value) in new[] { ("TrustBundlePath", TrustBundlePath), ("BootstrapCertificatePath", BootstrapCertificatePath),
                     ("BootstrapKeyPath", BootstrapKeyPath), ("StateDirectory", StateDirectory) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new AgentConfigurationException($"{name} is required.");
            }
        }
        if (RenewalFraction is < 0 or >= 1)
        {
            throw new AgentConfigurationException("RenewalFraction must be between 0 and 1.");
        }
        if (RenewalJitter is < 0 or >= 0.5)
        {
            throw new AgentConfigurationException("RenewalJitter must be between 0 and 0.5.");
        }
    }

    private void ResolveRelativePaths(string baseDirectory)
    {
        static string Resolve(string dir, string p) => p.Length == 0 || Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(dir, p));
        TrustBundlePath = Resolve(baseDirectory, TrustBundlePath);
        BootstrapCertificatePath = Resolve(baseDirectory, BootstrapCertificatePath);
        BootstrapKeyPath = Resolve(baseDirectory, BootstrapKeyPath);
        StateDirectory = Resolve(baseDirectory, StateDirectory);
    }
}

public sealed class AgentConfigurationException(string message) : Exception(message);
