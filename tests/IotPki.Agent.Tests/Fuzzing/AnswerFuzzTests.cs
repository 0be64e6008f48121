using System.Net.Http.Headers;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using IotPki.Agent;
using IotPki.Fuzz;
using IotPki.Identity;
using IotPki.Tests.Shared;

namespace IotPki.Agent.Tests.Fuzzing;

/// <summary>What the agent reads from the network (EST answers), mutated: a malformed answer is a
/// <see cref="FormatException"/>, which the agent retries, never another exception that would stop it.</summary>
public sealed class AnswerFuzzTests
{
    private const int Inputs = 1500;
    private const string Seed = "(7654321,1234567)";

    // The valid answers the coverage-guided targets start from.
    private static readonly byte[] Multipart = Seeds.Samples()["serverkeygen-answer"];
    private static readonly string CertsOnly = Convert.ToBase64String(Seeds.Samples()["certs-only"], Base64FormattingOptions.InsertLineBreaks);
    private static readonly MediaTypeHeaderValue MultipartType = MediaTypeHeaderValue.Parse("multipart/mixed; boundary=\"b-1\"");

    [Property(MaxTest = Inputs, Replay = Seed)]
    public void A_mutated_serverkeygen_answer_is_read_or_refused_as_a_FormatException(DoNotSize<int> input)
    {
        var body = Encoding.ASCII.GetBytes(InputMutations.MutateText(Encoding.ASCII.GetString(Multipart), input.Item));
        try
        {
            var (key, certificate) = ServerKeyGenAnswer.Read(MultipartType, body);
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
            CertsOnlyPkcs7.DecodeBase64(InputMutations.MutateText(CertsOnly, input.Item)).ForEach(c => c.Dispose());
        }
        catch (FormatException)
        {
        }
    }
}
