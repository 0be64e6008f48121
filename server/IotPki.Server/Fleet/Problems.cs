using Microsoft.AspNetCore.Mvc;

namespace IotPki.Server.Fleet;

/// <summary>The ProblemDetails of the operator API's refusals.</summary>
public static class Problems
{
    public static ProblemDetails UnknownDevice(string id) => New(404, "Unknown device", $"No device '{id}' is registered.", "unknown_device");
    public static ProblemDetails BadRequest(string detail, string reason = "bad_request") => New(400, "Bad request", detail, reason);
    public static ProblemDetails Conflict(string detail, string reason) => New(409, "Conflict", detail, reason);

    private static ProblemDetails New(int status, string title, string detail, string reason) => new()
    {
        Status = status,
        Title = title,
        Detail = detail,
        Extensions = { ["reason"] = reason },
    };
}
