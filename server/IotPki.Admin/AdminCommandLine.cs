using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace IotPki.Admin;

/// <summary>The operator's command line over the operator API: devices list|show|import|revoke|suspend|reinstate|renew,
/// enrollments pending|approve|reject, audit, renew (campaigns), manufacturers list|profile|proof-of-possession.</summary>
public static class AdminCommandLine
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int PartlyImported = 3;

    private static readonly Option<string> Url = new("--url")
    { Description = "Operator API base URL", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("IOTPKI_API_URL") ?? "https://localhost:8444" };
    private static readonly Option<string> Cert = new("--cert")
    { Description = "Operator certificate (PEM)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("IOTPKI_ADMIN_CERT") ?? "operator.pem" };
    private static readonly Option<string> Key = new("--key")
    { Description = "Operator key (PEM)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("IOTPKI_ADMIN_KEY") ?? "operator.key" };
    private static readonly Option<string> Ca = new("--ca")
    { Description = "CA bundle (PEM)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("IOTPKI_CA") ?? "ca.pem" };

    public static RootCommand Create(IAnsiConsole console)
    {
        var root = new RootCommand("IotPki operator client.");
        foreach (var option in new[] { Url, Cert, Key, Ca })
        {
            option.Recursive = true;
            root.Add(option);
        }
        root.Add(Devices(console));
        root.Add(Enrollments(console));
        root.Add(Audit(console));
        root.Add(RenewCampaign(console));
        root.Add(ManufacturerCommands.Create(console, Api));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, IAnsiConsole console, TextWriter error)
    {
        var parse = Create(console).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, even for a parser message that lists the accepted values line by line.
            var message = string.Join(' ', parse.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
            await error.WriteLineAsync($"error: {message}");
            return BadInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (AdminException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return Failed;
        }
    }

    private static ApiCalls Api(ParseResult parse) => new(new ApiConnection(new Uri(parse.GetValue(Url)!),
        parse.GetValue(Cert)!, parse.GetValue(Key)!, parse.GetValue(Ca)!).CreateClient());

    private static Command Devices(IAnsiConsole console)
    {
        var devices = new Command("devices", "Devices of the fleet.");

        var state = new Option<string?>("--state");
        var manufacturer = new Option<string?>("--manufacturer");
        var expiring = new Option<DateTimeOffset?>("--expiring-before");
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 100 };
        var after = new Option<string?>("--after");
        var renewal = new Option<string?>("--renewal") { Description = "scheduled, asked, renewed, at-risk or expired" };
        var list = new Command("list", "List devices.") { state, manufacturer, expiring, limit, after, renewal };
        list.SetAction(async (parse, ct) =>
        {
            var query = Query(("state", parse.GetValue(state)), ("manufacturer", parse.GetValue(manufacturer)),
                ("expiringBefore", parse.GetValue(expiring)?.ToString("O", CultureInfo.InvariantCulture)),
                ("limit", parse.GetValue(limit).ToString(CultureInfo.InvariantCulture)), ("after", parse.GetValue(after)),
                ("renewal", parse.GetValue(renewal)));
            var page = await Api(parse).DevicesAsync(query, ct);
            var table = new Table().AddColumns(Id("Device"), Id("Manufacturer"), new TableColumn("State"), new TableColumn("Online"), new TableColumn("Last seen"), new TableColumn("Certificate expires"), new TableColumn("Renewal"));
            foreach (var d in page.Items)
            {
                table.AddRow(Markup.Escape(d.Id), Markup.Escape(d.Manufacturer), StateMarkup(d.State), d.Online ? "yes" : "no",
                    Time(d.LastSeenAt), Time(d.CertificateExpiresAt), StateMarkup(d.Renewal ?? "-"));
            }
            console.Write(table);
            if (page.Next is not null)
            {
                console.MarkupLine($"more: --after {Markup.Escape(page.Next)}");
            }
            return Ok;
        });
        devices.Add(list);

        var id = new Argument<string>("id");
        var show = new Command("show", "One device with its certificates.") { id };
        show.SetAction(async (parse, ct) =>
        {
            var detail = await Api(parse).DeviceAsync(parse.GetValue(id)!, ct);
            var d = detail.Device;
            console.Write(new Table().AddColumns("Field", "Value")
                .AddRow("Device", Markup.Escape(d.Id)).AddRow("Manufacturer", Markup.Escape(d.Manufacturer)).AddRow("State", StateMarkup(d.State))
                .AddRow("Registered", Time(d.RegisteredAt)).AddRow("Enrolled", Time(d.EnrolledAt)).AddRow("Last seen", Time(d.LastSeenAt))
                .AddRow("Bootstrap", Markup.Escape(detail.BootstrapThumbprint ?? "-")));
            var certs = new Table().AddColumns(Id("Serial"), new TableColumn("Status"), new TableColumn("Not before"), new TableColumn("Not after"), new TableColumn("Revoked"));
            foreach (var c in detail.Certificates)
            {
                certs.AddRow(c.Serial, StateMarkup(c.Status), Time(c.NotBefore), Time(c.NotAfter), Time(c.RevokedAt));
            }
            console.Write(certs);
            return Ok;
        });
        devices.Add(show);

        devices.Add(Action("suspend", "Suspend a device.", "suspend", console));
        devices.Add(Action("reinstate", "Reinstate a suspended device.", "reinstate", console));
        devices.Add(Action("allow-reprovision", "Let the device's bootstrap certificate enroll once more.", "allow-reprovision", console));
        var renewId = new Argument<string>("id");
        var renew = new Command("renew", "Ask the device's agent to rotate its key and certificate now (over MQTT).") { renewId };
        renew.SetAction(async (parse, ct) =>
        {
            var device = parse.GetValue(renewId)!;
            var asked = await Api(parse).RenewAsync(device, ct);
            console.MarkupLine(asked.Online
                ? $"renew: {Markup.Escape(device)} is online; the ask was published on {Markup.Escape(asked.Topic)}"
                : $"renew: {Markup.Escape(device)} is offline; it renews on its own schedule, or is asked when it next connects if its renewal window is open");
            return Ok;
        });
        devices.Add(renew);

        var reasonArg = new Option<string>("--reason") { DefaultValueFactory = _ => "unspecified", Description = "RFC 5280 reason: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation, ..." };
        var revokeId = new Argument<string>("id");
        var revoke = new Command("revoke", "Revoke a device: certificates on the CRL, OCSP revoked, session closed, bootstrap blocked.") { revokeId, reasonArg };
        revoke.SetAction(async (parse, ct) =>
        {
            var device = parse.GetValue(revokeId)!;
            await Api(parse).PostAsync($"/api/v1/devices/{Uri.EscapeDataString(device)}/revoke", new { reason = parse.GetValue(reasonArg) }, ct);
            console.MarkupLine($"[red]revoked[/] {Markup.Escape(device)}");
            return Ok;
        });
        devices.Add(revoke);

        var importManufacturer = new Option<string>("--manufacturer") { Required = true };
        var file = new Argument<FileInfo>("csv");
        var import = new Command("import", "Register the serials of a CSV file (bad rows reported by line, good rows kept).") { importManufacturer, file };
        import.SetAction(async (parse, ct) =>
        {
            var csv = parse.GetValue(file)!;
            if (!csv.Exists)
            {
                throw new AdminException($"{csv.FullName} does not exist");
            }
            var importer = new CsvImport(Api(parse), parse.GetValue(importManufacturer)!);
            var lines = await File.ReadAllLinesAsync(csv.FullName, ct);
            ImportResult total = new(0, 0, []);
            await console.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask($"Importing {lines.Length} lines", maxValue: lines.Length);
                total = await importer.RunAsync(lines, done => task.Value = done, ct);
            });
            foreach (var error in total.Errors)
            {
                console.MarkupLine($"[red]{Markup.Escape(error)}[/]");
            }
            console.MarkupLine($"{total.Added} registered, {total.AlreadyRegistered} already registered, {total.Errors.Count} rejected.");
            return total.Errors.Count == 0 ? Ok : PartlyImported;
        });
        devices.Add(import);
        return devices;
    }

    private static Command Enrollments(IAnsiConsole console)
    {
        var enrollments = new Command("enrollments", "Enrollments awaiting an operator.");
        var pending = new Command("pending", "Devices awaiting approval.");
        pending.SetAction(async (parse, ct) =>
        {
            var page = await Api(parse).PendingAsync(ct);
            var table = new Table().AddColumns(Id("Device"), Id("Manufacturer"), new TableColumn("Asked at"));
            foreach (var d in page.Items)
            {
                table.AddRow(Markup.Escape(d.Id), Markup.Escape(d.Manufacturer), Time(d.RegisteredAt));
            }
            console.Write(table);
            return Ok;
        });
        enrollments.Add(pending);
        enrollments.Add(Action("approve", "Approve a pending device.", "approve", console, "/api/v1/enrollments"));
        enrollments.Add(Action("reject", "Reject a pending device (it is blocked).", "reject", console, "/api/v1/enrollments"));
        return enrollments;
    }

    private static Command Audit(IAnsiConsole console)
    {
        var device = new Option<string?>("--device");
        var action = new Option<string?>("--action");
        var limit = new Option<int>("--limit") { DefaultValueFactory = _ => 50 };
        var audit = new Command("audit", "The audit log, newest first.") { device, action, limit };
        audit.SetAction(async (parse, ct) =>
        {
            var page = await Api(parse).AuditAsync(Query(("deviceId", parse.GetValue(device)), ("action", parse.GetValue(action)),
                ("limit", parse.GetValue(limit).ToString(CultureInfo.InvariantCulture))), ct);
            var table = new Table().AddColumns(new TableColumn("At").NoWrap(), Id("Action"), Id("Actor"), Id("Device"), Id("From"), new TableColumn("Detail"));
            foreach (var a in page.Items)
            {
                table.AddRow(Time(a.At), Markup.Escape(a.Action), Markup.Escape(a.Actor), Markup.Escape(a.DeviceId ?? ""),
                    Markup.Escape(a.SourceAddress ?? ""), Markup.Escape(a.Detail ?? ""));
            }
            console.Write(table);
            return Ok;
        });
        return audit;
    }

    /// <summary><c>renew --manufacturer NAME | --issued-before DATE | --all [--within DURATION] [--wait]</c>: a campaign
    /// that re-keys a population through the server's planner and rate limit; with --wait, a progress line until done.</summary>
    private static Command RenewCampaign(IAnsiConsole console)
    {
        var manufacturer = new Option<string?>("--manufacturer");
        var issuedBefore = new Option<DateTimeOffset?>("--issued-before");
        var all = new Option<bool>("--all");
        var within = new Option<TimeSpan?>("--within") { Description = "spread the asks over this (default 1 day), e.g. 02:00:00" };
        var wait = new Option<bool>("--wait") { Description = "follow the campaign until every device has renewed" };
        var command = new Command("renew", "Re-key a population: a manufacturer's devices, certificates issued before a date, or all.")
            { manufacturer, issuedBefore, all, within, wait };
        command.SetAction(async (parse, ct) =>
        {
            var api = Api(parse);
            var campaign = await api.StartCampaignAsync(new
            {
                manufacturer = parse.GetValue(manufacturer),
                issuedBefore = parse.GetValue(issuedBefore),
                all = parse.GetValue(all),
                within = parse.GetValue(within),
            }, ct);
            console.MarkupLine($"campaign {campaign.Id}: {Markup.Escape(campaign.Population)}, {campaign.Devices} device(s) within {campaign.Within}");
            while (parse.GetValue(wait) && !campaign.Done)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
                campaign = await api.CampaignAsync(campaign.Id, ct);
                console.MarkupLine($"campaign {campaign.Id}: {campaign.Asked}/{campaign.Devices} asked, {campaign.Renewed}/{campaign.Devices} renewed, {campaign.AtRiskOrExpired} at risk or expired");
            }
            return Ok;
        });
        return command;
    }

    private static Command Action(string name, string description, string verb, IAnsiConsole console, string prefix = "/api/v1/devices")
    {
        var id = new Argument<string>("id");
        var command = new Command(name, description) { id };
        command.SetAction(async (parse, ct) =>
        {
            var device = parse.GetValue(id)!;
            await Api(parse).PostAsync($"{prefix}/{Uri.EscapeDataString(device)}/{verb}", null, ct);
            console.MarkupLine($"{Markup.Escape(verb)}: {Markup.Escape(device)}");
            return Ok;
        });
        return command;
    }

    /// <summary>A column of identifiers (device ids, serials, actors): never wrapped mid-token.</summary>
    private static TableColumn Id(string header) => new TableColumn(header).NoWrap();

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    private static string Time(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";

    private static string StateMarkup(string state) => state switch
    {
        "active" or "valid" => $"[green]{state}[/]",
        "revoked" or "blocked" or "expired" => $"[red]{state}[/]",
        "suspended" or "pending" or "at-risk" => $"[yellow]{state}[/]",
        _ => Markup.Escape(state),
    };
}
