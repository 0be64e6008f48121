using IotPki.Server.Ca;
using IotPki.Server.Data;
using IotPki.Server.Fleet;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Fleet;

public sealed class DeviceRegistrationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Csv_import_keeps_good_rows_and_reports_bad_rows_by_line_number()
    {
        var csv = "serial\ncsv-0001\nBAD SERIAL!\ncsv-0002\ncsv-0001\nx\ncsv-0003,extra,columns\n";
        await using var scope = server.Services.CreateAsyncScope();
        var registration = scope.ServiceProvider.GetRequiredService<DeviceRegistration>();

        var result = await registration.ImportCsvAsync(AuthorityRole.DemoManufacturerName, new StringReader(csv), "test", CancellationToken.None);

        Assert.Equal(3, result.Added);
        Assert.Collection(result.Errors,
            e => Assert.StartsWith("line 3:", e),
            e => Assert.StartsWith("line 5:", e),
            e => Assert.StartsWith("line 6:", e));
        var count = await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'csv-%'");
        Assert.Equal(3, count);
    }

    [Fact]
    public async Task Registering_for_an_unknown_manufacturer_is_refused()
    {
        await using var scope = server.Services.CreateAsyncScope();
        var registration = scope.ServiceProvider.GetRequiredService<DeviceRegistration>();

        var e = await Assert.ThrowsAsync<RegistrationException>(() =>
            registration.RegisterAsync("nobody", ["dev-x01"], "test", CancellationToken.None));

        Assert.Contains("nobody", e.Message);
    }

    [Fact]
    public async Task A_large_batch_registers_every_serial()
    {
        var csv = string.Join('\n', Enumerable.Range(0, 2500).Select(i => $"bulk-{i:D5}"));
        await using var scope = server.Services.CreateAsyncScope();
        var registration = scope.ServiceProvider.GetRequiredService<DeviceRegistration>();

        var result = await registration.ImportCsvAsync(AuthorityRole.DemoManufacturerName, new StringReader(csv), "test", CancellationToken.None);

        Assert.Equal(2500, result.Added);
        Assert.Empty(result.Errors);
        Assert.Equal(2500L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM devices WHERE \"Id\" LIKE 'bulk-%'"));
    }

    [Fact]
    public async Task The_audit_log_cannot_be_changed_or_deleted()
    {
        await server.RegisterAsync("audit-0001");

        var update = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            server.Database.ExecuteAsync("UPDATE audit_events SET \"Action\" = 'forged'"));
        var delete = await Assert.ThrowsAsync<Npgsql.PostgresException>(() =>
            server.Database.ExecuteAsync("DELETE FROM audit_events"));

        Assert.Contains("append-only", update.MessageText);
        Assert.Contains("append-only", delete.MessageText);
        Assert.True(await server.Database.ScalarAsync<long>("SELECT count(*) FROM audit_events WHERE \"Action\" = 'device.registered'") > 0);
    }
}
