using System.Globalization;
using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Balancing;

/// <summary>A service's balancer on a manual clock with hand-made endpoint sets; no DNS is involved.</summary>
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
        Registry = new Registries(Clock, resolverFactory: _ => new NoDns());
        Entry = Registry.GetBalancers(options).GetBalancer("name.internal", DiscoveryRecordTypes.A);
    }

    public TestClock Clock { get; } = new();

    public CloudMapDiscoveryOptions Options { get; }

    public Registries Registry { get; }

    /// <summary>The balancer of name.internal.</summary>
    public ServiceBalancer Entry { get; }

    public static BalancedEndpoint[] Endpoints(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new BalancedEndpoint(new EndpointAddress(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{i}")), null)))];

    public static BalancedSet Set(params BalancedEndpoint[] endpoints) => new(1, endpoints, null);

    /// <summary>How long from now the endpoint stays ejected.</summary>
    public TimeSpan EjectedFor(BalancedEndpoint e) =>
        e.EjectedUntil == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((e.EjectedUntil - Clock.GetTimestamp()) * TimeSpan.TicksPerSecond / Clock.TimestampFrequency);

    public void Fail(BalancedEndpoint e, bool connect = true) => Entry.ReportFailure(e, connect ? FailureCause.Connect : FailureCause.Transport);

    public void Succeed(BalancedEndpoint e) => Entry.ReportSuccess(e);

    public BalancedEndpoint Pick(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude = null) =>
        Entry.Pick(set, exclude) ?? throw new InvalidOperationException("No endpoint picked.");

    public void Dispose() => Registry.Dispose();

    internal sealed class NoDns : IDnsResolver
    {
        public ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default) =>
            throw new DnsResolutionException("These tests use hand-made endpoint sets.");
    }
}
