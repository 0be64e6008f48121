using IotPki.Server.Tests.Infrastructure;
using IotPki.Server.Hosting;

namespace IotPki.Server.Tests.Architecture;

/// <summary>The server's folders depend on each other only in the directions docs/architecture.md writes down.</summary>
public class FolderDirectionTests
{
    private static readonly string Document = Path.Combine(RepositoryPaths.Root, "docs", "architecture.md");

    [Fact]
    public void Every_folder_uses_only_the_folders_its_row_allows()
    {
        var allowed = AllowedUses(File.ReadAllLines(Document));
        var uses = FolderDependencies.Read(typeof(IotPkiServer).Assembly.Location)
            .Concat(FolderDependencies.ReadSources(Path.Combine(RepositoryPaths.Root, "server", "IotPki.Server"))).ToList();

        var unknownFolders = uses.Select(u => u.From).Concat(uses.Select(u => u.To)).Distinct().Where(f => !allowed.ContainsKey(f)).ToList();
        Assert.True(unknownFolders.Count == 0, $"Folders missing from docs/architecture.md: {string.Join(", ", unknownFolders)}");
        var violations = uses
            .Where(u => allowed[u.From] is { } may && !may.Contains(u.To))
            .Select(u => $"{u.From} -> {u.To}: {u.FromType} uses {u.ToType}")
            .ToList();
        Assert.True(violations.Count == 0, "Uses against docs/architecture.md:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_reader_sees_a_use_through_a_method_body()
    {
        // Hosting composes every feature; if the reader missed uses inside method bodies it would find none.
        var uses = FolderDependencies.Read(typeof(IotPkiServer).Assembly.Location);
        Assert.Contains(uses, u => u.From == "Hosting" && u.To == "Est");
        Assert.Contains(uses, u => u.From == "Hosting" && u.To == "Broker");
    }

    [Fact]
    public void The_source_reader_sees_a_use_of_constants_only()
    {
        // Jobs uses the operator role names, constants that leave no trace in the compiled code.
        var uses = FolderDependencies.ReadSources(Path.Combine(RepositoryPaths.Root, "server", "IotPki.Server"));
        Assert.Contains(uses, u => u.From == "Jobs" && u.To == "Operators");
    }

    [Fact]
    public void The_table_allows_no_cycle()
    {
        var allowed = AllowedUses(File.ReadAllLines(Document));
        foreach (var (folder, may) in allowed)
        {
            foreach (var other in may ?? [])
            {
                Assert.False(Reaches(allowed, other, folder, []), $"{folder} may use {other}, and {other} reaches {folder} back.");
            }
        }
    }

    /// <summary>Folder → the folders it may use; null for a composition root ("*").</summary>
    private static Dictionary<string, HashSet<string>?> AllowedUses(IEnumerable<string> lines)
    {
        var table = new Dictionary<string, HashSet<string>?>();
        foreach (var line in lines.Where(l => l.StartsWith('|')))
        {
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length != 3 || cells[0] is "folder" || cells[0].StartsWith("---", StringComparison.Ordinal))
            {
                continue;
            }
            table[cells[0]] = cells[2] == "*" ? null
                : cells[2].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(c => c != "-").ToHashSet();
        }
        Assert.NotEmpty(table);
        return table;
    }

    private static bool Reaches(Dictionary<string, HashSet<string>?> allowed, string from, string target, HashSet<string> seen)
    {
        if (from == target)
        {
            return true;
        }
        if (!seen.Add(from) || !allowed.TryGetValue(from, out var next) || next is null)
        {
            return false;
        }
        return next.Any(n => Reaches(allowed, n, target, seen));
    }
}
