namespace CloudMapDiscovery.Discovery;

/// <summary>What a source said about a service: its addresses with the answer's TTL, or that it has none.</summary>
/// <param name="Addresses">The endpoints, none merged; none at all for a negative answer.</param>
/// <param name="Ttl">The answer's TTL, if it gave one.</param>
/// <param name="NegativeReason">For a negative answer, what the source said.</param>
/// <param name="Source">Where the answer came from, for logs.</param>
internal sealed record SourceAnswer(IReadOnlyList<DiscoveredEndpoint> Addresses, TimeSpan? Ttl, string? NegativeReason, string Source)
{
    public bool IsNegative => Addresses.Count == 0;

    /// <summary>For an SRV answer, how many SRV records it held (the MULTIVALUE limit counts records, not addresses); 0 otherwise.</summary>
    public int SrvRecordCount { get; init; }

    /// <summary>Instances (SRV targets) listed but whose addresses could not be looked up: their previous addresses are kept.</summary>
    public IReadOnlyCollection<string> UnresolvedTargets { get; init; } = [];

    /// <summary>Whether the answer lists every instance (the API's), so that the MULTIVALUE merge must not widen it.</summary>
    public bool IsComplete { get; init; }
}

/// <summary>Where a service's endpoints come from: the one seam between discovery's cache and a source (DNS, or one plugged in through <see cref="ICloudMapEndpointSource"/>).</summary>
internal interface IEndpointSource
{
    /// <summary>The service's endpoints now; throws when the source fails (the cache then serves its last good answer).</summary>
    Task<SourceAnswer> ResolveAsync(ServiceKey key, CancellationToken cancellationToken);

    /// <summary>Keeps the source's state for <paramref name="key"/> (if it keeps any) until the result is disposed: the cache holds one per name it keeps.</summary>
    IDisposable Track(ServiceKey key);
}
