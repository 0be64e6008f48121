using System.Buffers;
using IotPki.Pki;

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
        if (request.ContentLength > limit)
        {
            return (null, EstRefusal.TooLarge(limit));
        }

        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        try
        {
            var length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, limit + 1 - length), ct)) > 0)
            {
                length += read;
                if (length > limit)
                {
                    return (null, EstRefusal.TooLarge(limit));
                }
            }
            try
            {
                return (SigningRequest.FromBase64(buffer.AsSpan(0, length), proof), null);
            }
            catch (CsrException e)
            {
                return (null, EstRefusal.BadCsr(e));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
