namespace CloudMapDiscovery.Dns;

/// <summary>Resolves DNS questions with their TTLs: <see cref="DnsResolver"/>, or a test's substitute (the library's seam for tests, not a public extension point).</summary>
internal interface IDnsResolver
{
    /// <inheritdoc cref="DnsResolver.QueryAsync"/>
    ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default);
}
