using System.Globalization;
using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// <c>memory</c>: what one cached name costs the process once a request has used it. <c>--names</c> names (default
/// 1,000) of <c>--records</c> A records each (default 8, a MULTIVALUE answer) are resolved through their balancers,
/// as a request's first use does; the managed heap is measured after full collections, before and after, and
/// divided by the number of names. The HTTP layer's per-address route cache is not included (it is built on a
/// request's first pick of each address).
/// </summary>
internal static class MemoryMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var names = (int)LoadMode.Option(args, "--names", 1_000);
        var records = (int)LoadMode.Option(args, "--records", 8);
        using var dns = await DnsTestServer.StartAsync("internal");
        for (var i = 0; i < names; i++)
        {
            var addresses = Enumerable.Range(0, records).Select(r => IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.{1 + (i / 250)}.{i % 250}.{r + 1}"))).ToArray();
            dns.SetAddresses(string.Create(CultureInfo.InvariantCulture, $"svc{i}"), TimeSpan.FromSeconds(60), addresses);
        }

        var options = new CloudMapDiscoveryOptions { DnsAttempts = 1, MaxCachedNames = Math.Max(names, 1_000) };
        options.NameServers.Add(dns.EndPoint.ToString());
        var settings = CloudMapSettings.From(options);
        using var context = new CloudMapContext();
        using var resolutions = new DiscoveryRegistry(context);
        using var balancers = new BalancerRegistry(resolutions);
        var cache = balancers.GetCache(settings.Discovery, settings.Balancing);

        // Warm everything that is built once (the resolver, the cache, the sweeper, JIT) with one name outside the count.
        dns.SetAddresses("warm", TimeSpan.FromSeconds(60), IPAddress.Loopback);
        await cache.GetBalancer("warm.internal", DiscoveryRecordTypes.A).GetAsync(CancellationToken.None);

        var before = Heap();
        var kept = new List<ServiceBalancer>(names);
        for (var i = 0; i < names; i++)
        {
            var balancer = cache.GetBalancer(string.Create(CultureInfo.InvariantCulture, $"svc{i}.internal"), DiscoveryRecordTypes.A);
            var set = await balancer.GetAsync(CancellationToken.None);
            if (set.Endpoints.Length != records)
            {
                Console.Error.WriteLine($"memory: svc{i}.internal resolved to {set.Endpoints.Length} endpoints, expected {records}");
                return 1;
            }

            kept.Add(balancer);
        }

        var after = Heap();
        GC.KeepAlive(kept);
        var perName = (after - before - (kept.Capacity * IntPtr.Size)) / (double)names;
        Console.WriteLine($"memory: {names:N0} names x {records} A records, resolved through their balancers: {perName / 1024:0.00} KiB per name (heap {before / 1024.0 / 1024:0.0} -> {after / 1024.0 / 1024:0.0} MiB)");
        return 0;
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
