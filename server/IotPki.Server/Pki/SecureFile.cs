namespace IotPki.Server.Pki;

/// <summary>Writes secrets atomically (temp file, fsync, rename), readable by the owner only.</summary>
public static class SecureFile
{
    public static void WriteAllText(string path, string contents, bool secret) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(contents), secret);

    public static void WriteAllBytes(string path, byte[] contents, bool secret)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Options = FileOptions.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(contents);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
