using IotPki.Fuzz;
using SharpFuzz;

// iotpki-fuzz TARGET            run one target under afl-fuzz (input on stdin, one per round)
// iotpki-fuzz TARGET --replay F  run one input file once (a crash reproduces as an unhandled exception)
// iotpki-fuzz --seeds DIR        write a valid sample per target into DIR/<target>/
if (args.Length == 2 && args[0] == "--seeds")
{
    Seeds.Write(args[1]);
    return 0;
}
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: iotpki-fuzz <{string.Join('|', FuzzTargets.All.Keys)}> [--replay FILE] | --seeds DIR");
    return 2;
}
if (args.Length == 3 && args[1] == "--replay")
{
    target(File.ReadAllBytes(args[2]));
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
