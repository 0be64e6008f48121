using IotPki.Identity;

namespace IotPki.Agent.Tests;

/// <summary>The one atomic file writer of agent, server and simulator: whole content or none, secrets 0600 from the
/// first byte, and a write whose durability cannot be had fails instead of passing for done.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("iotpki-atomic-").FullName;

    [Fact]
    public void A_secret_is_written_whole_readable_by_its_owner_only_and_leaves_no_temp_file()
    {
        var path = Path.Combine(_directory, "nested", "device.key");

        AtomicFile.WriteText(path, "secret\n", secret: true);
        AtomicFile.WriteText(path, "newer secret\n", secret: true);

        Assert.Equal("newer secret\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*" + AtomicFile.TempSuffix));
    }

    [Fact]
    public void A_directory_that_cannot_be_synced_fails_rather_than_passing_for_durable()
    {
        Assert.Throws<IOException>(() => AtomicFile.SyncDirectory(Path.Combine(_directory, "gone")));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
