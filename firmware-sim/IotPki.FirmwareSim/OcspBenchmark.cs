using System.Diagnostics;
using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace IotPki.FirmwareSim;

/// <summary>OCSP POSTs as fast as <paramref name="concurrency"/> clients can send them, for a while: each request asks
/// for one certificate, with a fresh nonce or none, on kept-alive connections or a new one each. The control is the
/// same request to a path nothing serves (404) on the same port, so the answer's own cost is the difference.</summary>
public sealed class OcspBenchmark(Uri url, X509Certificate2 issuer, byte[] serial, int concurrency, ProcessCpu serverCpu)
{
    public sealed record Result(long Answers, long Failures, double Seconds, double CpuSeconds)
    {
        public double PerSecond => Answers / Seconds;
        public double CpuMsPerAnswer => Answers == 0 ? 0 : CpuSeconds * 1000 / Answers;
    }

    public async Task<Result> RunAsync(Uri target, bool nonce, bool newConnections, TimeSpan duration, CancellationToken ct)
    {
        using var shared = Client(keepAlive: true);
        long answers = 0, failures = 0;
        var cpu0 = serverCpu.Seconds();
        var watch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (watch.Elapsed < duration && !ct.IsCancellationRequested)
            {
                using var own = newConnections ? Client(keepAlive: false) : null;
                using var content = new ByteArrayContent(Request(nonce));
                content.Headers.ContentType = new("application/ocsp-request");
                try
                {
                    using var response = await (own ?? shared).PostAsync(target, content, ct);
                    await response.Content.ReadAsByteArrayAsync(ct);
                    var expected = target == url ? HttpStatusCode.OK : HttpStatusCode.NotFound;
                    Interlocked.Increment(ref response.StatusCode == expected ? ref answers : ref failures);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }, ct)).ToList();
        await Task.WhenAll(workers);
        var seconds = watch.Elapsed.TotalSeconds;
        return new Result(answers, failures, seconds, serverCpu.Seconds() - cpu0);
    }

    private static HttpClient Client(bool keepAlive) => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = keepAlive ? Timeout.InfiniteTimeSpan : TimeSpan.Zero,
        MaxConnectionsPerServer = keepAlive ? 64 : 1,
    }) { DefaultRequestHeaders = { ConnectionClose = !keepAlive } };

    /// <summary>An RFC 6960 OCSPRequest for the serial (CertID by SHA-1, as openssl sends it), with a 16-byte nonce.</summary>
    private byte[] Request(bool withNonce)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            using (writer.PushSequence())
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.3.14.3.2.26");
                    writer.WriteNull();
                }
                writer.WriteOctetString(SHA1.HashData(issuer.SubjectName.RawData));
                writer.WriteOctetString(SHA1.HashData(issuer.PublicKey.EncodedKeyValue.RawData));
                writer.WriteIntegerUnsigned(serial);
            }
            if (withNonce)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                using (writer.PushSequence())
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.3.6.1.5.5.7.48.1.2");
                    var inner = new AsnWriter(AsnEncodingRules.DER);
                    inner.WriteOctetString(RandomNumberGenerator.GetBytes(16));
                    writer.WriteOctetString(inner.Encode());
                }
            }
        }
        return writer.Encode();
    }
}
