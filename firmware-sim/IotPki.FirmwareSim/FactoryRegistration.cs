using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IotPki.Identity;

namespace IotPki.FirmwareSim;

/// <summary>Registers a production run through the operator API: the manufacturer and its CA if the service does not
/// know it yet, then the serials, in bounded CSV batches.</summary>
public static class FactoryRegistration
{
    private const int BatchLines = 50_000;

    public static async Task<string> RegisterAsync(Uri api, X509Certificate2 operatorCertificate, string caBundlePath, string manufacturer,
        Factory factory, CancellationToken ct)
    {
        using var http = new HttpClient(MutualTlsHandler.Create(operatorCertificate, MutualTlsHandler.Anchors(caBundlePath))) { BaseAddress = api };
        using (var known = await SendAsync(() => http.GetAsync($"api/v1/manufacturers", ct)))
        {
            var body = await known.Content.ReadAsStringAsync(ct);
            if (!body.Contains($"\"name\":\"{manufacturer}\"", StringComparison.Ordinal))
            {
                using var created = await SendAsync(() => http.PostAsJsonAsync("api/v1/manufacturers",
                    new { name = manufacturer, caCertificatePem = File.ReadAllText(factory.CaCertificatePath) }, ct));
            }
        }
        var serials = File.ReadAllLines(factory.SerialsPath).Skip(1).Where(l => l.Length > 0).ToList();
        long added = 0, already = 0;
        foreach (var batch in serials.Chunk(BatchLines))
        {
            using var content = new StringContent("serial\n" + string.Join('\n', batch) + "\n", Encoding.UTF8, "text/csv");
            using var response = await SendAsync(() => http.PostAsync($"api/v1/devices/import?manufacturer={Uri.EscapeDataString(manufacturer)}", content, ct));
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            added += json.RootElement.GetProperty("added").GetInt64();
            already += json.RootElement.GetProperty("alreadyRegistered").GetInt64();
        }
        return $"Registered through {api}: {added} added, {already} already registered (manufacturer {manufacturer}).";
    }

    private static async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send)
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (HttpRequestException e)
        {
            throw new FactoryRegistrationException($"cannot reach the operator API: {e.Message}");
        }
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync();
            response.Dispose();
            throw new FactoryRegistrationException($"the operator API answered {(int)response.StatusCode}: {text}");
        }
        return response;
    }
}

public sealed class FactoryRegistrationException(string message) : Exception(message);
