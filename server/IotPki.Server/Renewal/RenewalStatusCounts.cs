using System.Diagnostics.Metrics;
using IotPki.Server.Data;
using IotPki.Server.Data.Entities;
using IotPki.Server.Devices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IotPki.Server.Renewal;

/// <summary>Active devices by renewal status, for the API and for <c>/metrics</c> (gauge <c>iotpki.renewal.devices</c>
/// of meter <c>IotPki.Renewal</c>). A scrape never waits on PostgreSQL: each instance counts every
/// <see cref="RenewalOptions.StatusCountsInterval"/> and the gauge reports the last count.</summary>
public sealed partial class RenewalStatusCounts : BackgroundService
{
    public const string MeterName = "IotPki.Renewal";

    private readonly IServiceScopeFactory _scopes;
    private readonly IOptions<RenewalOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<RenewalStatusCounts> _logger;
    private readonly Meter _meter = new(MeterName);
    private volatile Dictionary<string, int>? _last;

    public RenewalStatusCounts(IServiceScopeFactory scopes, IOptions<RenewalOptions> options, TimeProvider clock, ILogger<RenewalStatusCounts> logger)
    {
        _scopes = scopes;
        _options = options;
        _clock = clock;
        _logger = logger;
        _meter.CreateObservableGauge("iotpki.renewal.devices", Observe, description: "Active devices by renewal status.");
    }

    public static async Task<Dictionary<string, int>> ReadAsync(IotPkiDbContext db, CancellationToken ct)
    {
        var counts = await db.Renewals.AsNoTracking()
            .Where(r => db.Devices.Any(d => d.Id == r.DeviceId && d.State == DeviceState.Active))
            .GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        return RenewalStatusNames.All.ToDictionary(s => s.Name(), s => counts.SingleOrDefault(c => c.Key == s)?.Count ?? 0);
    }

    private IEnumerable<Measurement<int>> Observe() =>
        _last?.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("status", p.Key))) ?? [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                _last = await ReadAsync(scope.ServiceProvider.GetRequiredService<IotPkiDbContext>(), stoppingToken);
            }
            catch (Exception e) when ((DatabaseUnavailable.Is(e) || e is InvalidOperationException) && !stoppingToken.IsCancellationRequested)
            {
                // PostgreSQL is away: the gauge keeps the last count until the next one succeeds.
                LogCountFailed(_logger, e.Message);
            }
            await Task.Delay(_options.Value.StatusCountsInterval, _clock, stoppingToken);
        }
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    [LoggerMessage(LogLevel.Warning, "Could not count devices by renewal status: {Error}")]
    private static partial void LogCountFailed(ILogger logger, string error);
}
