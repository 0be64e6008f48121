namespace IotPki.Server.Tests.Infrastructure;

/// <summary>Where the checkout under test is: the directory above the test binaries that holds IotPki.sln.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "IotPki.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("IotPki.sln not found above the test binaries");
    }
}
