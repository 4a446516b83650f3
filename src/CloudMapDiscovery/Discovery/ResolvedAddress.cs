using System.Net;

namespace CloudMapDiscovery.Discovery;

/// <summary>One address from DNS with its port (SRV only) and TTL.</summary>
internal readonly record struct ResolvedAddress(IPAddress Address, int? Port, TimeSpan Ttl);

/// <summary>What DNS said about a service: its addresses with the answer's TTL, or that it has none.</summary>
internal sealed record ServiceResolution(IReadOnlyList<ResolvedAddress> Addresses, TimeSpan? Ttl, string? NegativeReason, string Source)
{
    public bool IsNegative => Addresses.Count == 0;
}
