using System.Formats.Asn1;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Authentication.ExtendedProtection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Pki;
using IotPki.Server.Est;

namespace IotPki.Server.Tests.Infrastructure;

/// <summary>A TLS 1.2 <c>simpleenroll</c> whose CSR carries this very session's tls-unique as challengePassword, as
/// libest's <c>estclient -z</c> sends it (RFC 7030 §3.5). The status line is the answer.</summary>
public static class TlsUniqueEnrollment
{
    public static async Task<string?> EnrollAsync(ServerFixture server, X509Certificate2 bootstrap, string commonName)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.EstBase.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls12,
            ClientCertificates = [bootstrap],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => bootstrap,
            RemoteCertificateValidationCallback = (_, c, _, _) => c is X509Certificate2 cert
                && ChainValidator.Validate(cert, server.Pki.Root, [server.Pki.Issuing], DateTimeOffset.UtcNow) == ChainVerdict.Valid,
        });
        using var binding = tls.TransportContext!.GetChannelBinding(ChannelBindingKind.Unique)!;
        var unique = Convert.ToBase64String(TlsUnique.FromBinding(binding)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.OtherRequestAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.7", Utf8(unique)));
        var body = Convert.ToBase64String(request.CreateSigningRequest());

        var message = $"POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\n" +
                      $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(message));
        using var reader = new StreamReader(tls);
        return await reader.ReadLineAsync();
    }

    private static byte[] Utf8(string value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
        return writer.Encode();
    }
}
