namespace IotPki.Server.Cluster;

/// <summary>This server instance's identity among the instances sharing the database.</summary>
public sealed class ClusterInstance
{
    public Guid Id { get; } = Guid.NewGuid();

    public string Host { get; } = Environment.MachineName;
}
