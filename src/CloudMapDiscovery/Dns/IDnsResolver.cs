namespace CloudMapDiscovery.Dns;

/// <summary>Resolves DNS questions with their TTLs: <see cref="DnsResolver"/>, or a test's substitute (the library's seam for tests, not a public extension point).</summary>
internal interface IDnsResolver
{
    /// <summary>
    /// Asks for the <see cref="DnsRecordType.A"/>, <see cref="DnsRecordType.AAAA"/> or <see cref="DnsRecordType.SRV"/>
    /// records of <paramref name="name"/>, following CNAME chains.
    /// </summary>
    /// <param name="name">A host name, for example <c>name.internal</c>.</param>
    /// <param name="type">A, AAAA or SRV.</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The answer; NXDOMAIN and NODATA are answers with <see cref="DnsQueryResult.IsNegative"/> set.</returns>
    /// <exception cref="DnsResolutionException">No name server produced a usable answer; every failure that is not the caller's (a timeout, an error code, a broken or hostile reply) is this exception, naming the name, the type and the servers.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException">The name is not a valid DNS name or the type is not supported.</exception>
    ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default);
}
