using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Identity;

namespace IotPki.Agent;

/// <summary>Reads a <c>serverkeygen</c> answer (RFC 7030 §4.4.2): <c>multipart/mixed</c> with an
/// <c>application/pkcs8</c> private key part and an <c>application/pkcs7-mime</c> certs-only part, both base64.
/// Works on bytes so the key's encodings can be wiped once imported.</summary>
public static class ServerKeyGenAnswer
{
    private const int MaxBoundaryLength = 70; // RFC 2046 §5.1.1

    public static (ECDsa Key, X509Certificate2 Certificate) Read(MediaTypeHeaderValue? contentType, byte[] body)
    {
        if (!string.Equals(contentType?.MediaType, "multipart/mixed", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"The serverkeygen answer is '{contentType?.MediaType ?? "(no type)"}', not multipart/mixed.");
        }
        var boundary = contentType!.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        if (string.IsNullOrEmpty(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw new FormatException("The serverkeygen answer has no usable multipart boundary.");
        }

        ECDsa? key = null;
        X509Certificate2? certificate = null;
        try
        {
            foreach (var (type, content) in Parts(body, Encoding.ASCII.GetBytes("--" + boundary)))
            {
                var der = DecodeBase64(body.AsSpan()[content]);
                try
                {
                    if (type.StartsWith("application/pkcs8", StringComparison.OrdinalIgnoreCase) && key is null)
                    {
                        key = ImportKey(der);
                    }
                    else if (type.StartsWith("application/pkcs7-mime", StringComparison.OrdinalIgnoreCase) && certificate is null)
                    {
                        var certificates = CertsOnlyPkcs7.Decode(der);
                        if (certificates.Count != 1)
                        {
                            certificates.ForEach(c => c.Dispose());
                            throw new FormatException($"The serverkeygen certificate part holds {certificates.Count} certificates, not one.");
                        }
                        certificate = certificates[0];
                    }
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(der);
                }
            }
            if (key is null || certificate is null)
            {
                throw new FormatException("The serverkeygen answer lacks its " + (key is null ? "application/pkcs8 key" : "certificate") + " part.");
            }
            if (!Certifies(certificate, key))
            {
                throw new FormatException("The key the server generated does not match the certificate it issued.");
            }
            return (key, certificate);
        }
        catch
        {
            key?.Dispose();
            certificate?.Dispose();
            throw;
        }
    }

    /// <summary>Whether the certificate's public key is the key's; a public key that does not decode certifies nothing.</summary>
    private static bool Certifies(X509Certificate2 certificate, ECDsa key)
    {
        try
        {
            using var certified = certificate.GetECDsaPublicKey();
            return certified is not null && certified.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    private static ECDsa ImportKey(byte[] pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length)
            {
                throw new FormatException("The serverkeygen key part holds data after the key.");
            }
            return key;
        }
        // A curve this platform lacks is PlatformNotSupportedException: as malformed as bad DER, for a key we did not ask for.
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            key.Dispose();
            throw new FormatException("The serverkeygen key part is not an unencrypted PKCS#8 ECDSA key: " + e.Message);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The body parts between the delimiters: each one's Content-Type and where its content lies.</summary>
    private static List<(string Type, Range Content)> Parts(byte[] body, byte[] delimiter)
    {
        var parts = new List<(string, Range)>();
        var span = body.AsSpan();
        var at = span.IndexOf(delimiter);
        if (at < 0)
        {
            throw new FormatException("The serverkeygen answer holds no multipart delimiter.");
        }
        while (true)
        {
            var afterDelimiter = at + delimiter.Length;
            if (span[afterDelimiter..].StartsWith("--"u8))
            {
                return parts; // the close delimiter
            }
            var lineEnd = span[afterDelimiter..].IndexOf((byte)'\n');
            var next = lineEnd < 0 ? -1 : span[(afterDelimiter + lineEnd + 1)..].IndexOf(delimiter);
            if (next < 0)
            {
                throw new FormatException("The serverkeygen answer's multipart body is not closed.");
            }
            var partStart = afterDelimiter + lineEnd + 1;
            var part = span.Slice(partStart, next);
            var headersEnd = part.IndexOf("\r\n\r\n"u8);
            var separator = 4;
            if (headersEnd < 0)
            {
                headersEnd = part.IndexOf("\n\n"u8);
                separator = 2;
            }
            if (headersEnd < 0)
            {
                throw new FormatException("A serverkeygen part has no header block.");
            }
            parts.Add((ContentTypeOf(part[..headersEnd]), new Range(partStart + headersEnd + separator, partStart + next)));
            at = partStart + next;
        }
    }

    private static string ContentTypeOf(ReadOnlySpan<byte> headers)
    {
        foreach (var line in Encoding.ASCII.GetString(headers).Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return "";
    }

    private static byte[] DecodeBase64(ReadOnlySpan<byte> text)
    {
        var compact = new byte[text.Length];
        var n = 0;
        foreach (var b in text)
        {
            if (b is not ((byte)' ' or (byte)'\r' or (byte)'\n' or (byte)'\t'))
            {
                compact[n++] = b;
            }
        }
        try
        {
            var der = new byte[n];
            if (System.Buffers.Text.Base64.DecodeFromUtf8(compact.AsSpan(0, n), der, out _, out var written) != System.Buffers.OperationStatus.Done)
            {
                throw new FormatException("A serverkeygen part is not valid base64.");
            }
            if (written == der.Length)
            {
                return der;
            }
            var exact = der[..written];
            CryptographicOperations.ZeroMemory(der);
            return exact;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(compact);
        }
    }
}
