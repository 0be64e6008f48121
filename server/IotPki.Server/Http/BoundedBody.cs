using System.Buffers;

namespace IotPki.Server.Http;

/// <summary>A whole request body read into a pooled buffer, if it is at most the limit: a larger declared
/// Content-Length is refused before reading, a longer stream as soon as it passes the limit. Dispose returns the buffer.</summary>
public sealed class BoundedBody : IDisposable
{
    private byte[]? _buffer;

    private BoundedBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Valid until disposed.</summary>
    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>The body, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<BoundedBody?> ReadAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(limit + 1);
        var length = 0;
        int read;
        while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, limit + 1 - length), ct)) > 0)
        {
            length += read;
            if (length > limit)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return null;
            }
        }
        return new BoundedBody(buffer, length);
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
