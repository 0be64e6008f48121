namespace IotPki.Server.Cluster;

public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How often an instance says it is alive; one silent for three of these is dead, and its devices offline.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);
}
