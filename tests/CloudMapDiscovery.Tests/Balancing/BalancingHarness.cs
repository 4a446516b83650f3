using System.Globalization;
using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>A cache entry on a manual clock with hand-made endpoint sets; no DNS is involved.</summary>
internal sealed class BalancingHarness : IDisposable
{
    public BalancingHarness(Action<CloudMapDiscoveryOptions>? configure = null)
    {
        var options = new CloudMapDiscoveryOptions
        {
            BaseEjectionTime = TimeSpan.FromSeconds(10),
            MaxEjectionTime = TimeSpan.FromSeconds(25),
        };
        configure?.Invoke(options);
        Options = options;
        Registry = new EndpointCacheRegistry(Clock, resolverFactory: _ => new NoDns());
        Cache = Registry.GetCache(options);
        Entry = Cache.GetEntry("name.internal", DiscoveryRecordTypes.A);
    }

    public ManualTimeProvider Clock { get; } = new();

    public CloudMapDiscoveryOptions Options { get; }

    public EndpointCacheRegistry Registry { get; }

    public EndpointCache Cache { get; }

    public ServiceEntry Entry { get; }

    public static ServiceEndpoint[] Endpoints(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new ServiceEndpoint(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{i}")), null))];

    public EndpointSet Set(params ServiceEndpoint[] endpoints) => new(endpoints, TimeSpan.FromSeconds(10), Clock.GetTimestamp(), null);

    /// <summary>How long from now the endpoint stays ejected.</summary>
    public TimeSpan EjectedFor(ServiceEndpoint e) =>
        e.EjectedUntil == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((e.EjectedUntil - Clock.GetTimestamp()) * TimeSpan.TicksPerSecond / Clock.TimestampFrequency);

    public void Fail(ServiceEndpoint e, bool connect = true) => Cache.ReportFailure(Entry, e, connect);

    public ServiceEndpoint Pick(EndpointSet set, IReadOnlyCollection<ServiceEndpoint>? exclude = null) =>
        Entry.Pick(set, exclude) ?? throw new InvalidOperationException("No endpoint picked.");

    public void Dispose() => Registry.Dispose();

    internal sealed class NoDns : IDnsResolver
    {
        public ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default) =>
            throw new DnsResolutionException("These tests use hand-made endpoint sets.");
    }
}
