namespace IotPki.Agent;

/// <summary>What the agent does next. <see cref="DeviceAgent"/> runs one step per state; each step says which comes after.</summary>
public enum AgentState
{
    /// <summary>A rotation left a new identity staged: connect with it to promote it, or discard it if refused.</summary>
    ProvePending,
    /// <summary>No usable identity (none yet, or it expired while offline): <c>simpleenroll</c> with the bootstrap certificate.</summary>
    Enroll,
    /// <summary>An identity and no broker session: connect, backing off while the broker is unreachable.</summary>
    Connect,
    /// <summary>Connected: wait for the renewal time, the server's renew command, or the session's end.</summary>
    Hold,
    /// <summary><c>simplereenroll</c> with the current certificate and stage the result for <see cref="ProvePending"/>.</summary>
    Rotate,
}
