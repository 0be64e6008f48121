using IotPki.Server.Ca;
using IotPki.Server.Cluster;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using IotPki.Server.Operators;

namespace IotPki.Server.Cli;

/// <summary>A small host for the subcommands: the server's configuration, database and PKI services, no listeners.</summary>
public static class CliHost
{
    public static IHost Build()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            // A failed query is the command's one error line; EF Core would log it again with its stack.
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "None",
        });
        builder.Services.AddData(builder.Configuration);
        builder.Services.AddCluster();
        builder.Services.AddCa();
        builder.Services.AddFleet();
        builder.Services.AddOperatorCertificates();
        return builder.Build();
    }
}
