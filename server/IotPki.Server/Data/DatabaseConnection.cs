namespace IotPki.Server.Data;

/// <summary>The PostgreSQL connection string: <c>ConnectionStrings:IotPki</c>, else the <c>IOTPKI_DB</c> variable.</summary>
public static class DatabaseConnection
{
    public const string Variable = "IOTPKI_DB";

    public static string Resolve(IConfiguration configuration) =>
        configuration.GetConnectionString("IotPki") is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : throw new InvalidOperationException($"No database: set {Variable} (or ConnectionStrings:IotPki) to a PostgreSQL connection string.");
}
