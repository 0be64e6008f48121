using IotPki.Pki;
using IotPki.Server.Http;

namespace IotPki.Server.Est;

/// <summary>Reads the base64 PKCS#10 body of an enrollment request, bounded by <see cref="EstOptions.MaxRequestBytes"/>.</summary>
public static class CsrBodyReader
{
    public static async Task<(SigningRequest? Csr, EstRefusal? Refusal)> ReadAsync(HttpRequest request, int limit, KeyProof proof, CancellationToken ct)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, "application/pkcs10", StringComparison.OrdinalIgnoreCase))
        {
            return (null, EstRefusal.WrongContentType(request.ContentType));
        }
        using var body = await BoundedBody.ReadAsync(request, limit, ct);
        if (body is null)
        {
            return (null, EstRefusal.TooLarge(limit));
        }
        try
        {
            return (SigningRequest.FromBase64(body.Span, proof), null);
        }
        catch (CsrException e)
        {
            return (null, EstRefusal.BadCsr(e));
        }
    }
}
