namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Keeps the CPU-bound fuzz test from running beside the resolver tests: on a two-core machine it would
/// starve the thread pool that the in-process DNS servers answer on, and the resolver tests' short
/// timeouts would fire for no fault of the resolver.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DnsTimingGroup
{
    public const string Name = "DNS timing";
}
