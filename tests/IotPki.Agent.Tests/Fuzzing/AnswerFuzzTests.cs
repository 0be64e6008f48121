using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using IotPki.Agent;
using IotPki.Identity;
using IotPki.Tests.Shared;

namespace IotPki.Agent.Tests.Fuzzing;

/// <summary>What the agent reads from the network (EST answers), mutated: a malformed answer is a
/// <see cref="FormatException"/>, which the agent retries, never another exception that would stop it.</summary>
public sealed class AnswerFuzzTests
{
    private const int Inputs = 1500;
    private const string Seed = "(7654321,1234567)";

    private static readonly (byte[] Multipart, string CertsOnly) Samples = MakeSamples();
    private static readonly MediaTypeHeaderValue Multipart = MediaTypeHeaderValue.Parse("multipart/mixed; boundary=\"b-1\"");

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_serverkeygen_answer_is_read_or_refused_as_a_FormatException(DoNotSize<int> input)
    {
        var body = Encoding.ASCII.GetBytes(InputMutations.MutateText(Encoding.ASCII.GetString(Samples.Multipart), input.Item));
        try
        {
            var (key, certificate) = ServerKeyGenAnswer.Read(Multipart, body);
            key.Dispose();
            certificate.Dispose();
        }
        catch (FormatException)
        {
        }
    }

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_base64_certs_only_answer_is_read_or_refused_as_a_FormatException(DoNotSize<int> input)
    {
        try
        {
            CertsOnlyPkcs7.DecodeBase64(InputMutations.MutateText(Samples.CertsOnly, input.Item)).ForEach(c => c.Dispose());
        }
        catch (FormatException)
        {
        }
    }

    private static (byte[], string) MakeSamples()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=fuzz-0001", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        var certsOnly = CertsOnlyPkcs7.Encode([certificate]);
        var text = new StringBuilder("preamble\r\n");
        foreach (var (type, der) in new[] { ("application/pkcs8", key.ExportPkcs8PrivateKey()), ("application/pkcs7-mime; smime-type=certs-only", certsOnly) })
        {
            text.Append($"--b-1\r\nContent-Type: {type}\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                .Append(Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n");
        }
        return (Encoding.ASCII.GetBytes(text.Append("--b-1--\r\n").ToString()), CertsOnlyPkcs7.EncodeBase64([certificate]));
    }
}
