using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace IotPki.Admin;

/// <summary><c>manufacturers list | profile NAME | proof-of-possession NAME required|optional</c>: what the operator
/// sets per manufacturer.</summary>
internal static class ManufacturerCommands
{
    public static Command Create(IAnsiConsole console, Func<ParseResult, ApiCalls> api)
    {
        var manufacturers = new Command("manufacturers", "Manufacturers, their certificate profiles and enrollment rules.");
        manufacturers.Add(List(console, api));
        manufacturers.Add(Profile(console, api));
        manufacturers.Add(ProofOfPossession(console, api));
        return manufacturers;
    }

    private static Command List(IAnsiConsole console, Func<ParseResult, ApiCalls> api)
    {
        var command = new Command("list", "The registered manufacturers and their settings.");
        command.SetAction(async (parse, ct) =>
        {
            var table = new Table().AddColumns("Name", "Device id", "Unregistered serials", "Lifetime", "Window", "Proof of possession");
            foreach (var m in await api(parse).ManufacturersAsync(ct))
            {
                table.AddRow(Markup.Escape(m.Name), Markup.Escape(m.DeviceIdField), Markup.Escape(m.UnregisteredPolicy),
                    m.OperationalLifetime?.ToString() ?? "default",
                    m.RenewalWindowStart is null && m.RenewalAtRisk is null ? "default" : $"{Fraction(m.RenewalWindowStart)}..{Fraction(m.RenewalAtRisk)}",
                    m.RequireProofOfPossession ? "required" : "optional");
            }
            console.Write(table);
            return AdminCommandLine.Ok;
        });
        return command;
    }

    /// <summary>Sets all three fields: one left out goes back to the service's default.</summary>
    private static Command Profile(IAnsiConsole console, Func<ParseResult, ApiCalls> api)
    {
        var name = new Argument<string>("name");
        var lifetime = new Option<TimeSpan?>("--lifetime") { Description = "operational certificate lifetime, e.g. 30.00:00:00 (default: the service's)" };
        var windowStart = new Option<double?>("--window-start") { Description = "fraction of the lifetime at which renewal opens, e.g. 0.5" };
        var atRisk = new Option<double?>("--at-risk") { Description = "fraction of the lifetime past which an unrenewed device is at risk, e.g. 0.9" };
        var command = new Command("profile", "Set the certificate profile of a manufacturer's devices (takes effect with each device's next certificate).")
            { name, lifetime, windowStart, atRisk };
        command.SetAction(async (parse, ct) =>
        {
            var m = await api(parse).PutAsync<ManufacturerRow>($"/api/v1/manufacturers/{Uri.EscapeDataString(parse.GetValue(name)!)}/profile", new
            {
                operationalLifetime = parse.GetValue(lifetime),
                renewalWindowStart = parse.GetValue(windowStart),
                renewalAtRisk = parse.GetValue(atRisk),
            }, ct);
            console.MarkupLine($"{Markup.Escape(m.Name)}: lifetime {m.OperationalLifetime?.ToString() ?? "default"}, " +
                $"renewal window {Fraction(m.RenewalWindowStart)}..{Fraction(m.RenewalAtRisk)}");
            return AdminCommandLine.Ok;
        });
        return command;
    }

    private static Command ProofOfPossession(IAnsiConsole console, Func<ParseResult, ApiCalls> api)
    {
        var name = new Argument<string>("name");
        var setting = new Argument<string>("setting") { Description = "required or optional" };
        setting.AcceptOnlyFromAmong("required", "optional");
        var command = new Command("proof-of-possession",
            "Whether a first enrollment must carry the TLS session's tls-unique in its CSR (RFC 7030 §3.5).") { name, setting };
        command.SetAction(async (parse, ct) =>
        {
            var m = await api(parse).PutAsync<ManufacturerRow>(
                $"/api/v1/manufacturers/{Uri.EscapeDataString(parse.GetValue(name)!)}/proof-of-possession",
                new { required = parse.GetValue(setting) == "required" }, ct);
            console.MarkupLine($"{Markup.Escape(m.Name)}: proof of possession on first enrollment {(m.RequireProofOfPossession ? "required" : "optional")}");
            return AdminCommandLine.Ok;
        });
        return command;
    }

    private static string Fraction(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "default";
}
