using System.Security.Cryptography;
using System.Text;

namespace IotPki.Server.Est;

/// <summary>The <c>serverkeygen</c> answer (RFC 7030 §4.4.2): <c>multipart/mixed</c> with the private key as an
/// unencrypted <c>application/pkcs8</c> part (mutual TLS protects it) and the certificate as a certs-only part, both
/// base64. The key bytes are written straight to the response and wiped, and the key disposed; it is never stored,
/// cached or logged.</summary>
public sealed class ServerKeyGenResult(ECDsa key, string certsOnlyBase64) : IResult
{
    public const string PrivateKeyContentType = "application/pkcs8";

    public async Task ExecuteAsync(HttpContext http)
    {
        var boundary = "est-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = $"multipart/mixed; boundary={boundary}";
        http.Response.Headers.CacheControl = "no-store";

        var pkcs8 = key.ExportPkcs8PrivateKey();
        var keyBase64 = new byte[((pkcs8.Length + 2) / 3 * 4) + (pkcs8.Length / 57 * 2) + 8];
        try
        {
            var keyLength = WriteBase64Lines(pkcs8, keyBase64);
            var head = Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Type: {PrivateKeyContentType}\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            var middle = Encoding.ASCII.GetBytes(
                $"\r\n--{boundary}\r\nContent-Type: {EstContentTypes.CertsOnly}\r\nContent-Transfer-Encoding: base64\r\n\r\n{certsOnlyBase64.TrimEnd()}\r\n--{boundary}--\r\n");
            http.Response.ContentLength = head.Length + keyLength + middle.Length;
            await http.Response.Body.WriteAsync(head);
            await http.Response.Body.WriteAsync(keyBase64.AsMemory(0, keyLength));
            await http.Response.Body.WriteAsync(middle);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
            CryptographicOperations.ZeroMemory(keyBase64);
            key.Dispose();
        }
    }

    /// <summary>Base64 in lines of 76 characters joined by CRLF, into <paramref name="output"/>; returns the length.</summary>
    private static int WriteBase64Lines(ReadOnlySpan<byte> data, Span<byte> output)
    {
        var written = 0;
        for (var offset = 0; offset < data.Length; offset += 57)
        {
            if (offset > 0)
            {
                output[written++] = (byte)'\r';
                output[written++] = (byte)'\n';
            }
            System.Buffers.Text.Base64.EncodeToUtf8(data.Slice(offset, Math.Min(57, data.Length - offset)), output[written..], out _, out var n);
            written += n;
        }
        return written;
    }
}
