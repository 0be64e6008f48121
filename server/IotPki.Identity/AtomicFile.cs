namespace IotPki.Identity;

/// <summary>Writes a file so that a power cut at any instant leaves either the old or the new content:
/// a temp file in the same directory, fsync, rename over the target, fsync of the directory. A secret file is 0600
/// from its first byte. The one writer of the agent's state, the server's keys and the simulator's identities.</summary>
public static class AtomicFile
{
    public const string TempSuffix = ".tmp";

    public static void Write(string path, ReadOnlySpan<byte> content, bool secret, Action<string>? checkpoint = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        // A name of its own, so that two writers of one file (two server instances on one data directory) never share it.
        var temp = $"{path}.{Guid.NewGuid():N}{TempSuffix}";
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
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
            stream.Write(content);
            checkpoint?.Invoke("file.written");
            stream.Flush(flushToDisk: true);
        }
        checkpoint?.Invoke("file.synced");
        File.Move(temp, path, overwrite: true);
        checkpoint?.Invoke("file.renamed");
        SyncDirectory(directory);
    }

    public static void WriteText(string path, string content, bool secret, Action<string>? checkpoint = null) =>
        Write(path, System.Text.Encoding.UTF8.GetBytes(content), secret, checkpoint);

    /// <summary>fsync of a directory, so that a rename or a new entry in it survives a power cut. A directory that
    /// cannot be opened or synced is an <see cref="IOException"/>: the write it was to make durable has failed, and
    /// whoever wrote must not go on as if it had not.</summary>
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
            throw new IOException($"Cannot open the directory {directory} to sync it (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Native.fsync(fd) != 0)
            {
                throw new IOException($"Cannot sync the directory {directory} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
            }
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
