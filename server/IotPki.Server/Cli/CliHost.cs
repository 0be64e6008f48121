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
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Error",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "None",
        });
        builder.Services.AddData(builder.Configuration);
        builder.Services.AddCluster();
        builder.Services.AddCa();
        builder.Services.AddFleet();
        builder.Services.AddOperatorCertificates();
        return builder.Build();
    }
}
