namespace CloudMapDiscovery.Discovery;

/// <summary>An <see cref="ICloudMapEndpointSource"/> (the Cloud Map API) behind the same cache as DNS.</summary>
/// <remarks>
/// Its answers carry no TTL of their own: a positive one is given a TTL of zero, which the cache floors to
/// <see cref="CacheSettings.MinTtl"/> and takes as its own interval (refreshed at MinTtl plus up to 10 %, so never more
/// often than once per MinTtl); a negative one is kept for <see cref="CacheSettings.NegativeTtlCap"/>. Every instance
/// is listed (no MULTIVALUE limit), so the merge does not widen it.
/// </remarks>
internal sealed class PluggedSource(ICloudMapEndpointSource source) : IEndpointSource
{
    public IDisposable Track(ServiceKey key) => source.Track(key.Host);

    public async Task<SourceAnswer> ResolveAsync(ServiceKey key, CancellationToken cancellationToken)
    {
        var answer = await source.ResolveAsync(key.Host, cancellationToken).ConfigureAwait(false);
        var endpoints = answer.Instances
            .Select(i => new DiscoveredEndpoint(new EndpointAddress(i.Address, i.Port), IsMerged: false) { Instance = new EndpointInstance(i.InstanceId, i.Attributes, answer.OwnerAccount) })
            .DistinctBy(e => e.Address)
            .ToArray();
        return endpoints.Length == 0
            ? new SourceAnswer([], null, answer.NoInstancesReason ?? "no instances", answer.Description) { IsComplete = true }
            : new SourceAnswer(endpoints, TimeSpan.Zero, null, answer.Description) { IsComplete = true };
    }
}
