namespace CloudMapDiscovery.Tests.Http;

/// <summary>
/// The HTTP tests run one at a time: several measure how long a failover takes against a connect timeout, and
/// each starts real Kestrel servers, which on a two-core machine would otherwise skew those measurements.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HttpTestGroup
{
    public const string Name = "Http";
}
