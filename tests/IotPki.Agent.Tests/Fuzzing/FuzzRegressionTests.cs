using IotPki.Server.Tests.Infrastructure;
using IotPki.Fuzz;

namespace IotPki.Agent.Tests.Fuzzing;

/// <summary>Every input <c>./iotpki bench fuzz</c> ever found crashing a parser (kept in tests/fuzz-regressions/TARGET/),
/// and the valid sample each target starts from, run once through the same targets afl drives: each must end in the
/// parser's own refusal or a result, never another exception.</summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string> Targets => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void The_seed_and_every_kept_crashing_input_pass_through_the_target(string target)
    {
        var inputs = new List<byte[]> { Seeds.Samples()[target] };
        var kept = Path.Combine(RepositoryPaths.Root, "tests", "fuzz-regressions", target);
        if (Directory.Exists(kept))
        {
            inputs.AddRange(Directory.GetFiles(kept).Select(File.ReadAllBytes));
        }

        Assert.NotEmpty(inputs);
        foreach (var input in inputs)
        {
            FuzzTargets.All[target](input);
        }
    }
}
