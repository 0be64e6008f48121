using System.Globalization;

namespace IotPki.FirmwareSim;

/// <summary>User + system CPU seconds of another process, from /proc/PID/stat (in USER_HZ, 100 per second on Linux),
/// so a benchmark can charge the broker exactly for its measured window. Absent pid or /proc: always 0.</summary>
public sealed class ProcessCpu(int? pid)
{
    public double Seconds()
    {
        if (pid is null || !File.Exists($"/proc/{pid}/stat"))
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public bool Enabled => pid is not null;
}
