using System.Diagnostics;
using System.Security.Cryptography;

namespace IotPki.FirmwareSim;

/// <summary>ECDSA P-256 signatures per second with one key, from several threads at once: the CA key as the database
/// and file stores hold it (in memory, after decryption) against the same operation through a PKCS#11 token.</summary>
public static class SigningBenchmark
{
    public sealed record Result(long Signatures, double Seconds)
    {
        public double PerSecond => Signatures / Seconds;
    }

    public static Result Run(ECDsa key, int threads, TimeSpan duration)
    {
        var hash = SHA256.HashData("IotPki signing benchmark"u8);
        long total = 0;
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            long mine = 0;
            while (watch.Elapsed < duration)
            {
                key.SignHash(hash);
                mine++;
            }
            Interlocked.Add(ref total, mine);
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return new Result(total, watch.Elapsed.TotalSeconds);
    }
}
