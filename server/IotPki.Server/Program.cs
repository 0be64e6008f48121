using IotPki.Server.Cli;
using IotPki.Server.Hosting;

if (ServerCommandLine.IsSubcommand(args))
{
    return await ServerCommandLine.InvokeAsync(args);
}

var app = IotPkiServer.Build(args);
await IotPkiServer.StartAsync(app);
await app.WaitForShutdownAsync();
return 0;
