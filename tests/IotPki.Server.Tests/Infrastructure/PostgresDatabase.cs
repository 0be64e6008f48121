using Npgsql;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>A fresh PostgreSQL database on the cluster that <c>./iotpki test</c> started (or a class's own), dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private readonly string _admin;

    public string Name { get; } = $"t_{Guid.NewGuid():N}";
    public string ConnectionString { get; }

    /// <param name="adminConnectionString">The cluster to create the database on (default: the shared test cluster).</param>
    public PostgresDatabase(string? adminConnectionString = null)
    {
        _admin = adminConnectionString ?? Environment.GetEnvironmentVariable("IOTPKI_TEST_DB") ?? Environment.GetEnvironmentVariable("IOTPKI_DB")
            ?? throw new InvalidOperationException("Run the tests with ./iotpki test (IOTPKI_TEST_DB names the PostgreSQL cluster).");
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = Name, MaxPoolSize = 40 }.ConnectionString;
    }

    public async Task InitializeAsync()
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }
        return await command.ExecuteNonQueryAsync();
    }

    private string AdminConnectionString() =>
        new NpgsqlConnectionStringBuilder(_admin) { Database = "postgres", Pooling = false }.ConnectionString;
}
