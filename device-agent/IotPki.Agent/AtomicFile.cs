namespace IotPki.Agent;

/// <summary>Writes a file so that a power cut at any instant leaves either the old or the new content:
/// a temp file in the same directory, fsync, rename over the target, fsync of the directory.</summary>
public static class AtomicFile
{
    public const string TempSuffix = ".tmp";

    public static void Write(string path, ReadOnlySpan<byte> content, bool secret, Action<string>? checkpoint = null)
    {
        var temp = path + TempSuffix;
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        using (var stream = new FileStream(temp, options))
        {
            if (secret && !OperatingSystem.IsWindows())
            {
                // An earlier temp file may have been left with other permissions: UnixCreateMode only applies to new files.
                File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            stream.Write(content);
            checkpoint?.Invoke("file.written");
            stream.Flush(flushToDisk: true);
        }
        checkpoint?.Invoke("file.synced");
        File.Move(temp, path, overwrite: true);
        checkpoint?.Invoke("file.renamed");
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static void WriteText(string path, string content, bool secret, Action<string>? checkpoint = null) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(content), secret, checkpoint);

    /// <summary>fsync of a directory, so that a rename or a new entry in it survives a power cut.</summary>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        // .NET refuses to open a directory as a file, so this goes to libc: open(O_RDONLY), fsync, close.
        var fd = Native.open(directory, 0);
        if (fd < 0)
        {
            return;
        }
        try
        {
            Native.fsync(fd);
        }
        finally
        {
            Native.close(fd);
        }
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        internal static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        internal static extern int fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc")]
        internal static extern int close(int fd);
    }
}
