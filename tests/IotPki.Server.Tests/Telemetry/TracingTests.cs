using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using IotPki.Server.Cluster;
using IotPki.Server.Http;
using IotPki.Server.Operators;
using IotPki.Server.Tests.Infrastructure;

namespace IotPki.Server.Tests.Telemetry;

/// <summary>Traces an OTLP collector would receive: an enrollment from request to commit, and a revocation from the
/// operator's API call to each instance's broker closing the device's session, in one trace.</summary>
public sealed class TracingTests : IClassFixture<ServerFixture>, IDisposable
{
    private readonly ServerFixture server;
    private readonly ConcurrentBag<Activity> _finished = [];
    private readonly ActivityListener _listener;

    public TracingTests(ServerFixture server)
    {
        this.server = server;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("IotPki.", StringComparison.Ordinal) || source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => _finished.Add(a),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task An_enrollment_is_one_trace_from_request_to_commit()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "traced-enroll");

        var request = Assert.Single(_finished, a => a.OperationName == "est simpleenroll" && (string?)a.GetTagItem("iotpki.device") == "traced-enroll");
        Assert.Equal("issued", request.GetTagItem("iotpki.outcome"));
        var steps = _finished.Where(a => a.TraceId == request.TraceId && a.ParentSpanId == request.SpanId).Select(a => a.OperationName).ToHashSet();
        Assert.Superset(new HashSet<string> { "est.gate", "est.csr", "est.sign", "est.commit" }, steps);
    }

    [Fact]
    public async Task A_revocation_is_one_trace_from_the_API_call_to_the_session_closed_on_the_other_instance()
    {
        using var device = await DeviceIdentity.EnrollAsync(server, "traced-revoke");
        await using var second = await server.StartServerAsync(server.TempDirectory("iotpki-traced-"));
        var secondInstance = second.Services.GetRequiredService<ClusterInstance>().Id;
        var secondPort = second.Services.GetRequiredService<ListenerEndpoints>().Get(ListenerEndpoints.Mqtt)!.Port;
        using var client = await MqttTestClient.ConnectAsync(server, device.Certificate, device.Id, secondPort);
        var dropped = MqttTestClient.Disconnected(client);
        using var adminCertificate = await OperatorClient.IssueAsync(server, "traced-admin", OperatorRole.Admin);
        using var admin = OperatorClient.Create(server, adminCertificate);

        using (var response = await OperatorClient.PostJsonAsync(admin, "/api/v1/devices/traced-revoke/revoke", new { reason = "keyCompromise" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await dropped.WaitAsync(TimeSpan.FromSeconds(30));

        var revoke = Assert.Single(_finished, a => a.OperationName == "device.revoke" && (string?)a.GetTagItem("iotpki.device") == "traced-revoke");
        var apiCall = _finished.SingleOrDefault(a => a.SpanId == revoke.ParentSpanId);
        Assert.NotNull(apiCall);
        Assert.Equal("Microsoft.AspNetCore", apiCall!.Source.Name);
        Activity? remote = null;
        for (var i = 0; i < 100 && remote is null; i++)
        {
            remote = _finished.FirstOrDefault(a => a.OperationName == "broker.revocation" && a.TraceId == revoke.TraceId
                && (Guid?)a.GetTagItem("iotpki.instance") == secondInstance);
            await Task.Delay(50);
        }
        Assert.NotNull(remote);
        Assert.Equal(revoke.SpanId, remote!.ParentSpanId);
        await second.StopAsync();
    }

    public void Dispose() => _listener.Dispose();
}
