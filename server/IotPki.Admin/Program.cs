using System.Globalization;
using IotPki.Admin;
using Spectre.Console;

var console = AnsiConsole.Console;
// Piped or redirected, there is no terminal to measure: Spectre would assume 80 columns and wrap ids mid-token.
// $COLUMNS when the shell exports it, else wide enough for every table on one line per row.
if (Console.IsOutputRedirected)
{
    console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns)
        && columns >= 40 ? columns : 240;
}
return await AdminCommandLine.InvokeAsync(args, console, Console.Error);
