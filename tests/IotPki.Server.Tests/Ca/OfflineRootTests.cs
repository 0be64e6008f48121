using IotPki.Server.Ca;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Ca;

/// <summary>A database made by a version that kept the root key in the root's row: <c>ca root-offline</c> moves the
/// key, still encrypted, to a 0600 file in the offline directory, and the row keeps only its reference.</summary>
public sealed class OfflineRootTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_root_key_in_the_database_moves_to_an_offline_file_and_a_rollover_still_opens_it()
    {
        var reference = await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'root'");
        var pem = await File.ReadAllTextAsync(reference["file:".Length..]);
        await server.Database.ExecuteAsync("UPDATE authorities SET \"KeyReference\" = $1 WHERE \"Role\" = 'root'", pem);

        string? moved;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            moved = await scope.ServiceProvider.GetRequiredService<OfflineRoot>().MoveOutOfDatabaseAsync("operator:offline-test", CancellationToken.None);
        }

        Assert.NotNull(moved);
        Assert.Equal("file:" + moved, await server.Database.ScalarAsync<string>("SELECT \"KeyReference\" FROM authorities WHERE \"Role\" = 'root'"));
        Assert.Equal(pem, await File.ReadAllTextAsync(moved));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(moved));
        Assert.Equal(1L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM audit_events WHERE \"Action\" = 'ca.root_moved_offline' AND \"Actor\" = 'operator:offline-test'"));
        await using (var scope = server.Services.CreateAsyncScope())
        {
            Assert.Null(await scope.ServiceProvider.GetRequiredService<OfflineRoot>().MoveOutOfDatabaseAsync("operator:offline-test", CancellationToken.None));
            var rollover = await scope.ServiceProvider.GetRequiredService<IssuingCaRollover>().RollOverAsync("operator:offline-test", CancellationToken.None);
            Assert.Equal(AuthorityRole.Issuing, rollover.Previous);
        }
    }
}
