using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Authentication.ExtendedProtection;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace IotPki.Server.Est;

/// <summary>The tls-unique channel binding (RFC 5929 §3) of the request's TLS session: what an EST client puts in its
/// CSR's challengePassword to prove that the CSR was made for this very connection (RFC 7030 §3.5). TLS 1.3 has no
/// tls-unique; there it is null.</summary>
public static class TlsUnique
{
    private const string Prefix = "tls-unique:";

    public static byte[]? Of(HttpContext http)
    {
        var tls = http.Features.Get<ISslStreamFeature>()?.SslStream;
        if (tls is null || tls.SslProtocol == SslProtocols.Tls13)
        {
            return null;
        }
        using var binding = tls.TransportContext?.GetChannelBinding(ChannelBindingKind.Unique);
        return binding is null ? null : FromBinding(binding);
    }

    /// <summary>The tls-unique bytes of a channel binding, as either end of the connection reads it.</summary>
    public static byte[]? FromBinding(ChannelBinding binding)
    {
        if (binding.IsInvalid || binding.Size < 32)
        {
            return null;
        }
        // A SEC_CHANNEL_BINDINGS header (eight 32-bit fields), then the application data it points at:
        // "tls-unique:" followed by the first Finished message of the handshake.
        var raw = new byte[binding.Size];
        Marshal.Copy(binding.DangerousGetHandle(), raw, 0, raw.Length);
        var length = BitConverter.ToInt32(raw, 24);
        var offset = BitConverter.ToInt32(raw, 28);
        if (offset < 32 || length <= 0 || offset + length > raw.Length)
        {
            return null;
        }
        var data = raw.AsSpan(offset, length);
        var prefix = System.Text.Encoding.ASCII.GetBytes(Prefix);
        return (data.StartsWith(prefix) ? data[prefix.Length..] : data).ToArray();
    }
}
