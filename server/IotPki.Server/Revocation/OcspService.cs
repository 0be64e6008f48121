using IotPki.Pki;
using IotPki.Server.Ca;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Revocation;

/// <summary>The OCSP responder of this instance for every issuing CA in use, made again when a rollover changes them.</summary>
public sealed partial class OcspService(
    PkiState pki, CertificateStatusCache store, OcspSignatureAudit audit, IOptions<RevocationOptions> options, RevocationMetrics metrics, TimeProvider clock, ILogger<OcspService> logger)
{
    private (IReadOnlyList<IssuingAuthority> For, OcspResponder Responder)? _responder;

    public async Task<byte[]> RespondAsync(ReadOnlyMemory<byte> request, CancellationToken ct)
    {
        var authorities = pki.Authorities;
        var responder = _responder is { } made && ReferenceEquals(made.For, authorities) ? made.Responder
            : (_responder = (authorities, new OcspResponder([.. authorities.Select(a => a.Ca)], store, clock, options.Value.OcspValidity))).Value.Responder;
        OcspAnswer answer;
        try
        {
            answer = await responder.RespondAsync(request, ct);
        }
        catch (Exception e) when (DatabaseFailure.Is(e) && !ct.IsCancellationRequested)
        {
            LogStoreFailed(logger, e.GetType().Name);
            metrics.OcspAnswered("unavailable");
            return OcspResponder.InternalError;
        }
        if (answer.SignedBy is { } ca && authorities.FirstOrDefault(a => ReferenceEquals(a.Ca, ca)) is { } signer)
        {
            audit.Signed(signer.Name);
        }
        if (answer.Outcome == OcspOutcome.Malformed)
        {
            LogMalformed(logger, request.Length);
            metrics.OcspAnswered("malformed");
        }
        else
        {
            var debug = logger.IsEnabled(LogLevel.Debug);
            foreach (var (serial, status) in answer.Statuses)
            {
                metrics.OcspAnswered(status);
                if (debug)
                {
                    LogAnswered(logger, serial, status);
                }
            }
        }
        return answer.Der;
    }

    /// <summary>The request of an RFC 6960 appendix A.1 GET: the URL-encoded base64 of the DER request, taken from the
    /// raw request target (base64 may hold '/' and '+'). Null when it is not base64.</summary>
    public static byte[]? DecodeGetRequest(string rawTarget, string prefix)
    {
        var path = rawTarget;
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        string text;
        try
        {
            text = Uri.UnescapeDataString(path[prefix.Length..]);
        }
        catch (UriFormatException)
        {
            return null;
        }
        // Tolerate base64url and missing padding; both are seen in the wild.
        text = text.Replace('-', '+').Replace('_', '/');
        if (text.Length % 4 != 0)
        {
            text = text.PadRight(text.Length + 4 - text.Length % 4, '=');
        }
        var buffer = new byte[text.Length * 3 / 4];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }

    [LoggerMessage(LogLevel.Debug, "OCSP {Serial}: {Status}")]
    private static partial void LogAnswered(ILogger logger, string serial, string status);

    [LoggerMessage(LogLevel.Information, "OCSP request of {Bytes} bytes is malformed")]
    private static partial void LogMalformed(ILogger logger, int bytes);

    [LoggerMessage(LogLevel.Warning, "OCSP status lookup failed ({Error}); answered internalError")]
    private static partial void LogStoreFailed(ILogger logger, string error);
}
