using System.Diagnostics;
using System.Globalization;

namespace IotPki.FirmwareSim;

/// <summary>A one-line progress bar on a terminal (redrawn in place), or a line every 10 % when the output is a file.</summary>
public sealed class ProgressBar(TextWriter output, int total)
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly bool _terminal = !Console.IsErrorRedirected;
    private readonly Lock _lock = new();
    private int _lastTenth = -1;

    public void Report(int done)
    {
        lock (_lock)
        {
            var rate = done / Math.Max(_watch.Elapsed.TotalSeconds, 1e-3);
            var filled = (int)(30L * done / total);
            var text = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string(' ', 30 - filled)}] {done:N0}/{total:N0} {rate:N0}/s");
            if (_terminal)
            {
                output.Write("\r" + text);
            }
            else if ((int)(10L * done / total) is var tenth && tenth != _lastTenth)
            {
                _lastTenth = tenth;
                output.WriteLine(text);
            }
        }
    }

    public void Done()
    {
        if (_terminal)
        {
            output.WriteLine();
        }
    }
}
