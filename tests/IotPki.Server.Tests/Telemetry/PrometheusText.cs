using System.Globalization;

namespace IotPki.Server.Tests.Telemetry;

/// <summary>A Prometheus text exposition, read into series: <c>name{labels} value</c>.</summary>
public sealed class PrometheusText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _series = [];

    public PrometheusText(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var brace = line.IndexOf('{');
            var close = line.LastIndexOf('}');
            var name = brace >= 0 ? line[..brace] : line[..line.IndexOf(' ')];
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in line[(brace + 1)..close].Split("\","))
                {
                    var eq = pair.IndexOf('=');
                    if (eq > 0)
                    {
                        labels[pair[..eq].Trim(',', ' ')] = pair[(eq + 1)..].Trim('"');
                    }
                }
            }
            // After the name and labels: the value, and perhaps a timestamp.
            var fields = line[((brace >= 0 ? close : name.Length) + 1)..].Trim().Split(' ');
            _series.Add((name, labels, double.Parse(fields[0], CultureInfo.InvariantCulture)));
        }
    }

    public bool Has(string name) => _series.Any(s => s.Name == name);

    /// <summary>The sum of the series named <paramref name="name"/> whose labels include <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        _series.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);
}
