using IotPki.Pki;

namespace IotPki.Fuzz;

/// <summary>The OCSP responder over an empty store: every request gets a signed answer or malformedRequest.</summary>
public static class OcspRequest
{
    private static readonly Lazy<OcspResponder> Responder = new(() =>
    {
        var root = CertificateAuthority.CreateRoot("Fuzz Root", TimeSpan.FromDays(3650), DateTimeOffset.UtcNow.AddDays(-1));
        var issuing = CertificateAuthority.CreateSubordinate("Fuzz Issuing", TimeSpan.FromDays(3000), DateTimeOffset.UtcNow.AddDays(-1), root);
        return new OcspResponder(issuing, new NoCertificates(), TimeProvider.System, TimeSpan.FromHours(1));
    });

    public static void Answer(byte[] data) => Responder.Value.RespondAsync(data, CancellationToken.None).GetAwaiter().GetResult();

    private sealed class NoCertificates : ICertificateStatusSource
    {
        public Task<IReadOnlyList<KnownCertificate>> FindAsync(IReadOnlyCollection<string> serialsHex, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<KnownCertificate>>([]);
    }
}
