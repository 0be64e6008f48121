namespace IotPki.Admin;

/// <summary>Sends a large CSV in chunks so that progress can be shown; line numbers stay those of the whole file.</summary>
public sealed class CsvImport(ApiCalls api, string manufacturer, int chunkLines = 1000)
{
    public async Task<ImportResult> RunAsync(string[] lines, Action<int> progress, CancellationToken ct)
    {
        var added = 0;
        var already = 0;
        var errors = new List<string>();
        for (var start = 0; start < lines.Length; start += chunkLines)
        {
            var chunk = lines.Skip(start).Take(chunkLines);
            var result = await api.ImportChunkAsync(manufacturer, string.Join('\n', chunk) + "\n", start + 1, ct);
            added += result.Added;
            already += result.AlreadyRegistered;
            errors.AddRange(result.Errors);
            progress(Math.Min(lines.Length, start + chunkLines));
        }
        return new ImportResult(added, already, errors);
    }
}
