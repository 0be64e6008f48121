namespace IotPki.Server.Cluster;

/// <summary>This server instance's identity among the instances sharing the database.</summary>
public sealed class ClusterInstance
{
    public Guid Id { get; } = Guid.NewGuid();

    public string Host { get; } = Environment.MachineName;

    private volatile string? _issuingCa;

    /// <summary>The issuing CA this instance signs with, as its heartbeat row reports it (null until the CAs are loaded).</summary>
    public string? IssuingCa { get => _issuingCa; set => _issuingCa = value; }
}
