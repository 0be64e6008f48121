using IotPki.Admin;
using Spectre.Console;

return await AdminCommandLine.InvokeAsync(args, AnsiConsole.Console, Console.Error);
