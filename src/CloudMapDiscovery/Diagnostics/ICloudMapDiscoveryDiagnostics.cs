namespace CloudMapDiscovery.Diagnostics;

/// <summary>A read-only view of every discovered service, for health pages and debugging.</summary>
/// <remarks>Resolve it from DI.</remarks>
public interface ICloudMapDiscoveryDiagnostics
{
    /// <summary>Takes a snapshot of every service in every endpoint cache of the process.</summary>
    /// <returns>One entry per service, sorted by host.</returns>
    IReadOnlyList<ServiceSnapshot> GetSnapshot();
}
