using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace IotPki.Admin;

/// <summary>Typed calls to the operator API; a refusal becomes an <see cref="AdminException"/> with the server's words.</summary>
public sealed class ApiCalls(HttpClient http)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<PageOf<DeviceRow>> DevicesAsync(string query, CancellationToken ct) => GetAsync<PageOf<DeviceRow>>($"/api/v1/devices{query}", ct);
    public Task<DeviceDetail> DeviceAsync(string id, CancellationToken ct) => GetAsync<DeviceDetail>($"/api/v1/devices/{Uri.EscapeDataString(id)}", ct);
    public Task<PageOf<DeviceRow>> PendingAsync(CancellationToken ct) => GetAsync<PageOf<DeviceRow>>("/api/v1/enrollments/pending?limit=1000", ct);
    public Task<PageOf<AuditRow>> AuditAsync(string query, CancellationToken ct) => GetAsync<PageOf<AuditRow>>($"/api/v1/audit{query}", ct);

    public Task<List<ManufacturerRow>> ManufacturersAsync(CancellationToken ct) => GetAsync<List<ManufacturerRow>>("/api/v1/manufacturers", ct);

    public async Task<T> PutAsync<T>(string path, object body, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Put, path, JsonContent.Create(body), ct, keep: true);
        return (await response!.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    public Task<CampaignRow> CampaignAsync(long id, CancellationToken ct) => GetAsync<CampaignRow>($"/api/v1/renewals/campaigns/{id}", ct);

    public async Task<CampaignRow> StartCampaignAsync(object request, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/renewals/campaigns", JsonContent.Create(request), ct, keep: true);
        return (await response!.Content.ReadFromJsonAsync<CampaignRow>(Json, ct))!;
    }

    public async Task<RenewRow> RenewAsync(string device, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/api/v1/devices/{Uri.EscapeDataString(device)}/renew", null, ct, keep: true);
        return (await response!.Content.ReadFromJsonAsync<RenewRow>(Json, ct))!;
    }

    public Task PostAsync(string path, object? body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body is null ? null : JsonContent.Create(body), ct);

    public async Task<ImportResult> ImportChunkAsync(string manufacturer, string csv, int firstLine, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post,
            $"/api/v1/devices/import?manufacturer={Uri.EscapeDataString(manufacturer)}&firstLine={firstLine}",
            new StringContent(csv, Encoding.UTF8, "text/csv"), ct, keep: true);
        return (await response!.Content.ReadFromJsonAsync<ImportResult>(Json, ct))!;
    }

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, ct, keep: true);
        return (await response!.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }

    private async Task<HttpResponseMessage?> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct, bool keep = false)
    {
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(method, path) { Content = content };
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new AdminException($"cannot reach {http.BaseAddress}: {e.Message}");
        }
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            response.Dispose();
            Problem? problem = null;
            try
            {
                problem = JsonSerializer.Deserialize<Problem>(text, Json);
            }
            catch (JsonException)
            {
                // Not a ProblemDetails body (a proxy's page, say): the raw text below is the message.
            }
            throw new AdminException($"{(int)response.StatusCode} {problem?.Title ?? response.ReasonPhrase}: {problem?.Detail ?? text}".Trim());
        }
        if (keep)
        {
            return response;
        }
        response.Dispose();
        return null;
    }
}
