using System.Reflection;

namespace IotPki.Server.Http;

/// <summary>An endpoint filter that refuses (400 ProblemDetails) a request whose route values, query string or bound
/// arguments (JSON bodies included) hold a NUL character: no such text names anything, and PostgreSQL refuses it.</summary>
public sealed class NulGuard : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var found = http.Request.Query.SelectMany(q => q.Value.Select(v => (q.Key, Value: v)))
                .Concat(http.Request.RouteValues.Select(r => (r.Key, Value: r.Value as string)))
                .FirstOrDefault(p => p.Value?.Contains('\0') == true).Key
            ?? context.Arguments.Select(NulIn).FirstOrDefault(name => name is not null);
        if (found is not null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
                detail: $"'{found}' holds a NUL character.", extensions: new Dictionary<string, object?> { ["reason"] = "nul_character" });
        }
        return await next(context);
    }

    /// <summary>The name of a string, or a string property of a request record, that holds a NUL.</summary>
    private static string? NulIn(object? argument) => argument switch
    {
        string s => s.Contains('\0') ? "argument" : null,
        null => null,
        _ when argument.GetType().Namespace?.StartsWith("IotPki.", StringComparison.Ordinal) == true =>
            argument.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.PropertyType == typeof(string) && p.GetIndexParameters().Length == 0)
                .FirstOrDefault(p => (p.GetValue(argument) as string)?.Contains('\0') == true)?.Name,
        _ => null,
    };
}
