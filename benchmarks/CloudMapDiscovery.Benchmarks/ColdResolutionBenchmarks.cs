using System.Net;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Shared;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// A cold lookup: a full DNS exchange with the Testing server on loopback, nothing cached.
/// <para>
/// What is comparable: System.Net.Dns asks glibc, which asks the name servers in /etc/resolv.conf on port 53.
/// It cannot be pointed at the Testing server's port, and these machines may neither edit /etc/hosts or
/// resolv.conf nor send DNS off the loopback, so the same name cannot go through both. The baseline is
/// therefore <c>Dns.GetHostAddressesAsync("localhost")</c>: the system path answered from /etc/hosts, with
/// no network at all, the cheapest lookup System.Net.Dns can do. Our rows pay a real UDP (or UDP then TCP)
/// round trip to a server in the same process on top, so a ratio near or below 1 means our client costs
/// no more than glibc answering from a file.
/// </para>
/// </summary>
[MemoryDiagnoser]
public class ColdResolutionBenchmarks
{
    private DnsTestServer _dns = null!;
    private DnsResolver _resolver = null!;
    private DiscoverySettings _cacheSettings = null!;
    private CloudMapContext _context = null!;

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not wait for a Task-returning GlobalSetup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _dns = await DnsTestServer.StartAsync("internal");
        _dns.SetAddresses("eight", TimeSpan.Zero, Enumerable.Range(1, 8).Select(i => new IPAddress([10, 0, 0, (byte)i])).ToArray());
        _dns.SetAddresses("big", TimeSpan.Zero, Enumerable.Range(1, 150).Select(i => new IPAddress([10, 0, (byte)(i / 250), (byte)((i % 250) + 1)])).ToArray());
        for (var i = 0; i < 8; i++)
        {
            var target = $"task{i}.srv";
            _dns.AddService("srv", 1, 1, 3000, target, TimeSpan.FromSeconds(10));
            _dns.AddAddress(target, new IPAddress([10, 0, 1, (byte)(i + 1)]), TimeSpan.FromSeconds(10));
        }

        _resolver = Zone.Resolver(_dns);
        var options = new CloudMapDiscoveryOptions();
        options.NameServers.Add(_dns.EndPoint.ToString());
        _cacheSettings = CloudMapSettings.From(options).Discovery;
        _context = new CloudMapContext();

        Check((await _resolver.QueryAsync("eight.internal", DnsRecordType.A)).Addresses.Count, 8, DnsTransport.Udp, await _resolver.QueryAsync("eight.internal", DnsRecordType.A));
        var srv = await _resolver.QueryAsync("srv.internal", DnsRecordType.SRV);
        Check(srv.Services.Sum(s => s.Addresses.Count), 8, DnsTransport.Udp, srv);
        var big = await _resolver.QueryAsync("big.internal", DnsRecordType.A);
        Check(big.Addresses.Count, 150, DnsTransport.Tcp, big);
        Check((await ColdCacheEntry()).Endpoints.Length, 8, DnsTransport.Udp, null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _context.Dispose();
        _dns.Dispose();
    }

    /// <summary>System.Net.Dns answered by glibc from /etc/hosts (no network): the floor of the system path.</summary>
    [Benchmark(Baseline = true)]
    public Task<IPAddress[]> SystemDns_Localhost_FromEtcHosts() => System.Net.Dns.GetHostAddressesAsync("localhost");

    /// <summary>Our resolver: one UDP exchange, 8 A records.</summary>
    [Benchmark]
    public async Task<DnsQueryResult> OurResolver_A8_Udp() => await _resolver.QueryAsync("eight.internal", DnsRecordType.A);

    /// <summary>Our resolver: one UDP exchange, 8 SRV records with the targets' A records in the additional section.</summary>
    [Benchmark]
    public async Task<DnsQueryResult> OurResolver_Srv8_Udp() => await _resolver.QueryAsync("srv.internal", DnsRecordType.SRV);

    /// <summary>Our resolver: 150 A records; the UDP reply comes back truncated and the question is asked again over TCP.</summary>
    [Benchmark]
    public async Task<DnsQueryResult> OurResolver_A150_UdpThenTcp() => await _resolver.QueryAsync("big.internal", DnsRecordType.A);

    /// <summary>What the first request to a new name waits for: a new cache entry, a refresh on the thread pool, one UDP exchange.</summary>
    [Benchmark]
    public async Task<int> ColdCacheEntry_A8() => (await ColdCacheEntry()).Endpoints.Length;

    private async Task<EndpointSet> ColdCacheEntry()
    {
        using var cache = new DiscoveryPartition(_cacheSettings, new DnsServiceSource(_resolver, _context.Clock), _context);
        return await cache.GetService("eight.internal", DiscoveryRecordTypes.A).GetAsync(CancellationToken.None);
    }

    private static void Check(int actual, int expected, DnsTransport transport, DnsQueryResult? result)
    {
        if (actual != expected || (result is not null && result.Transport != transport))
        {
            throw new InvalidOperationException($"expected {expected} records over {transport}, got {actual} over {result?.Transport}");
        }
    }
}
