using System.CommandLine;

namespace IotPki.Server.Cli;

/// <summary><c>health [--port N]</c>: asks the server running beside it whether it is ready (<c>/readyz</c> on the EST
/// port of this host). The container's health check: the ASP.NET image has no curl, and the server binary is there.</summary>
public static class HealthCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port")
        {
            DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("Est__Port"), out var p) ? p : 8443,
            Description = "The EST port of the local server (default: Est__Port, else 8443)",
        };
        var command = new Command("health", "Exit 0 when the local server answers /readyz, 1 otherwise.") { port };
        command.SetAction(async (parse, ct) =>
        {
            using var handler = new SocketsHttpHandler
            {
                // A probe of this host's own server sends nothing secret and reads one word; which names its TLS
                // certificate carries (the public host name, not localhost) is not its concern.
                SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
                ConnectTimeout = TimeSpan.FromSeconds(3),
            };
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
            try
            {
                using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{parse.GetValue(port)}/readyz"), ct);
                if (response.IsSuccessStatusCode)
                {
                    return ExitCodes.Ok;
                }
                Console.Error.WriteLine($"error: not ready ({(int)response.StatusCode})");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.Error.WriteLine($"error: no answer on port {parse.GetValue(port)}: {e.Message}");
            }
            return ExitCodes.Failed;
        });
        return command;
    }
}
