using IotPki.Server.Data;
using Microsoft.AspNetCore.Diagnostics;

namespace IotPki.Server.Http;

/// <summary>Turns a request that failed because PostgreSQL is unreachable into <c>503</c> with <c>Retry-After</c> and a
/// problem document (reason <c>database_unavailable</c>): the client retries, and since nothing is answered before
/// it is committed, nothing it was told is lost.</summary>
public sealed partial class DatabaseUnavailableHandler(IProblemDetailsService problems, ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (!DatabaseUnavailable.Is(exception) || http.Response.HasStarted)
        {
            return false;
        }
        LogUnavailable(logger, http.Request.Method, http.Request.Path, exception.GetBaseException().Message);
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service temporarily unavailable",
                Detail = $"The database cannot be reached; nothing was done. Retry in {RetryAfterSeconds} seconds.",
                Extensions = { ["reason"] = "database_unavailable" },
            },
        });
    }

    [LoggerMessage(LogLevel.Warning, "{Method} {Path}: 503, the database is unavailable ({Reason})")]
    private static partial void LogUnavailable(ILogger logger, string method, string path, string reason);
}
