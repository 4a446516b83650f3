using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// DnsResponseParser.Parse on replies shaped like Route 53's (built in setup by <see cref="DnsReplyBuilder"/>):
/// the MULTIVALUE maximum of 8 A records (the baseline), 8 SRV records with each target's A record in the
/// additional section (Cloud Map's SRV form), and 150 A records, a reply that only fits over TCP.
/// </summary>
[MemoryDiagnoser]
public class DnsParseBenchmarks
{
    private const string Name = "name.internal";

    private byte[] _eightA = null!;
    private byte[] _srvWithAdditional = null!;
    private byte[] _tcp150 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _eightA = DnsReplyBuilder.AddressReply(Name, 8);
        _srvWithAdditional = DnsReplyBuilder.ServiceReply(Name, 8, 3000);
        _tcp150 = DnsReplyBuilder.AddressReply(Name, 150, opt: false);
        if (_tcp150.Length <= 1232)
        {
            throw new InvalidOperationException("the 150-record reply should not fit a 1232-byte UDP payload");
        }

        Check(DnsResponseParser.Parse(_eightA, Name, DnsRecordType.A, 8).Addresses.Count, 8);
        var srv = DnsResponseParser.Parse(_srvWithAdditional, Name, DnsRecordType.SRV, 8);
        Check(srv.Services.Count, 8);
        Check(srv.Services.Sum(s => s.Addresses.Count), 8);
        Check(DnsResponseParser.Parse(_tcp150, Name, DnsRecordType.A, 8).Addresses.Count, 150);
    }

    [Benchmark(Baseline = true)]
    public object EightA() => DnsResponseParser.Parse(_eightA, Name, DnsRecordType.A, 8);

    [Benchmark]
    public object EightSrvWithAdditionalA() => DnsResponseParser.Parse(_srvWithAdditional, Name, DnsRecordType.SRV, 8);

    [Benchmark]
    public object TcpReply150A() => DnsResponseParser.Parse(_tcp150, Name, DnsRecordType.A, 8);

    private static void Check(int actual, int expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"parsed {actual} records, expected {expected}");
        }
    }
}
