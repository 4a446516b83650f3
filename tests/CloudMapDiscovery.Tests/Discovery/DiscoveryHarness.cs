using System.Globalization;
using System.Net;
using System.Reflection;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Tests.Discovery;

/// <summary>
/// An endpoint cache on a manual clock, pointed at an in-process <see cref="DnsTestServer"/> for the zone
/// <c>internal</c>. The server has a clock of its own (<see cref="ServerClock"/>) so that a test can hold DNS
/// answers back (<see cref="HoldAnswers"/>) without moving the cache's clock.
/// </summary>
internal sealed class DiscoveryHarness : IAsyncDisposable
{
    public const string Host = "name.internal";

    private DiscoveryHarness(DnsTestServer server, TestClock serverClock, TestClock clock, CloudMapDiscoveryOptions options, ILoggerFactory? loggerFactory)
    {
        Server = server;
        ServerClock = serverClock;
        Clock = clock;
        Options = options;
        Registry = new Registries(clock, loggerFactory);
    }

    public DnsTestServer Server { get; }

    public TestClock ServerClock { get; }

    public TestClock Clock { get; }

    public CloudMapDiscoveryOptions Options { get; }

    public Registries Registry { get; }

    public DiscoveryPartition Cache => Registry.GetCache(Options);

    public BalancingPartition Balancers => Registry.GetBalancers(Options);

    /// <summary>Queries of <see cref="Host"/> for A records the server has seen.</summary>
    public int AQueries => Server.GetQueryCount(Host, DnsRecordType.A);

    public static async Task<DiscoveryHarness> StartAsync(Action<CloudMapDiscoveryOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        var serverClock = new TestClock();
        var server = await DnsTestServer.StartAsync(new DnsTestServerOptions { Zone = "internal", TimeProvider = serverClock });
        var options = new CloudMapDiscoveryOptions { DnsAttempts = 1, DnsTimeout = TimeSpan.FromSeconds(2) };
        options.NameServers.Add(server.EndPoint.ToString());
        configure?.Invoke(options);
        return new DiscoveryHarness(server, serverClock, new TestClock(), options, loggerFactory);
    }

    /// <summary>127.0.0.<paramref name="n"/> (record data only; never dialled).</summary>
    public static IPAddress Ip(int n) => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{n}"));

    public static IPAddress[] Ips(params int[] n) => [.. n.Select(Ip)];

    public static string[] Texts(EndpointSet set) => [.. set.Endpoints.Select(e => e.Address.Address.ToString()).Order(StringComparer.Ordinal)];

    public static string[] Texts(BalancedSet set) => [.. set.Endpoints.Select(e => e.Address.Address.ToString()).Order(StringComparer.Ordinal)];

    public static string[] Texts(params int[] n) => [.. n.Select(i => Ip(i).ToString()).Order(StringComparer.Ordinal)];

    /// <summary>Asserts that a request was answered synchronously (no DNS wait) and returns its set.</summary>
    public static EndpointSet Sync(ValueTask<EndpointSet> get)
    {
        get.IsCompletedSuccessfully.Should().BeTrue("a warm name is served without waiting for DNS");
#pragma warning disable CA2012 // completed, checked above
        return get.Result;
#pragma warning restore CA2012
    }

    public DiscoveredService Entry(string host = Host, DiscoveryRecordTypes types = DiscoveryRecordTypes.A) => Cache.GetService(host, types);

    /// <summary>The balancer of a service: its endpoints' health and picks (the entry underneath is <see cref="Entry"/>'s).</summary>
    public ServiceBalancer Balancer(string host = Host, DiscoveryRecordTypes types = DiscoveryRecordTypes.A, int? port = null) => Balancers.GetBalancer(host, types, port);

    public void SetAddresses(TimeSpan ttl, params int[] n) => Server.SetAddresses("name", ttl, Ips(n));

    public ServiceSnapshot Snapshot(string host = Host) => Registry.GetSnapshot().Single(s => s.Host == host);

    public static TimeSpan Elapsed(TestClock clock, long from, long to) => TimeSpan.FromTicks((to - from) * TimeSpan.TicksPerSecond / clock.TimestampFrequency);

    /// <summary>Uses <paramref name="service"/> and advances the clock a second at a time, at most <paramref name="maxSeconds"/> seconds, until the sweeper has refreshed it.</summary>
    public async Task RefreshOnceAsync(DiscoveredService service, int maxSeconds)
    {
        var before = service.Current!.FetchedAt;
        for (var i = 0; i < maxSeconds && service.Current!.FetchedAt == before; i++)
        {
            service.TryGetFresh(); // a request's read: a name is refreshed ahead of expiry only while requests use it
            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        service.Current!.FetchedAt.Should().NotBe(before, "the sweeper refreshes a warm name");
    }

    /// <summary>As <see cref="AdvanceAsync"/>, with <paramref name="inUse"/> read by a request before each step, as a name in use is.</summary>
    public async Task AdvanceInUseAsync(TimeSpan by, params DiscoveredService[] inUse)
    {
        var step = TimeSpan.FromSeconds(1);
        for (var left = by; left > TimeSpan.Zero; left -= step)
        {
            foreach (var service in inUse)
            {
                service.TryGetFresh();
            }

            await AdvanceAsync(left < step ? left : step);
        }
    }

    /// <summary>Moves the clock forward in steps (each firing the cache's 1 s sweeper when due) and, after every step, waits for every refresh in flight, so that no query overlaps a clock move.</summary>
    public async Task AdvanceAsync(TimeSpan by, TimeSpan? step = null, params DiscoveredService[] alsoWatch)
    {
        var s = step ?? TimeSpan.FromSeconds(1);
        var left = by;
        while (left > TimeSpan.Zero)
        {
            var d = left < s ? left : s;
            Clock.Advance(d);
            left -= d;
            await SettleAsync(alsoWatch);
        }
    }

    /// <summary>Waits for every refresh in flight in the cache (and of <paramref name="alsoWatch"/>, which may have been evicted).</summary>
    public async Task SettleAsync(params DiscoveredService[] alsoWatch)
    {
        foreach (var entry in Cache.Services.Concat(alsoWatch))
        {
            await Settle(entry);
        }
    }

    public static async Task Settle(DiscoveredService entry)
    {
        while (entry.PendingRefresh is { IsCompleted: false } pending)
        {
            await pending.WaitAsync(TimeSpan.FromSeconds(10));
        }

        if (entry.PendingRefresh is { IsFaulted: true } faulted)
        {
            await faulted; // surfaces an unexpected exception of the refresh itself
        }
    }

    /// <summary>Makes the server hold every answer back until <see cref="ReleaseAnswersAsync"/>.</summary>
    public void HoldAnswers() => Server.InjectFault(DnsFault.Delay(TimeSpan.FromSeconds(1)));

    /// <summary>Waits until <paramref name="held"/> queries are being held, then lets them (and every later query) through.</summary>
    public async Task ReleaseAnswersAsync(int held)
    {
        await Poll.UntilAsync(() => ServerClock.ActiveTimers >= held, $"{held} held DNS answer(s)");
        Server.ClearFaults();
        ServerClock.Advance(TimeSpan.FromSeconds(1));
    }

    public async ValueTask DisposeAsync()
    {
        Registry.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>Reads and writes state that has no public accessor: a service's refresh time, a balancer's round-robin counter.</summary>
internal static class EntryHooks
{
    private static readonly FieldInfo CounterField =
        typeof(ServiceBalancer).GetField("_counter", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new InvalidOperationException("ServiceBalancer has no field _counter; update the test hook.");

    /// <summary>The timestamp from which a request or the sweeper starts a background refresh.</summary>
    public static long RefreshAt(DiscoveredService entry) => entry.Status.RefreshAt;

    public static uint Counter(ServiceBalancer balancer) => (uint)CounterField.GetValue(balancer)!;

    public static void SetCounter(ServiceBalancer balancer, uint value) => CounterField.SetValue(balancer, value);
}
