using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;
using CloudMapDiscovery.Tests.Dns;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// DnsResponseParser.Parse on replies shaped like Route 53's (built in setup with the tests' <see cref="WireBuilder"/>):
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
        _eightA = AddressReply(8);
        _srvWithAdditional = ServiceReply(8, 3000);
        _tcp150 = AddressReply(150, opt: false);
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

    // The reply to "name.internal A" with count addresses 10.0.x.y, TTL 0, each owner a pointer to the question.
    private static byte[] AddressReply(int count, bool opt = true)
    {
        var reply = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        for (var i = 0; i < count; i++)
        {
            reply.A(Name, $"10.0.{i / 250}.{(i % 250) + 1}", ttl: 0);
        }

        return (opt ? reply.Opt(1232) : reply).ToArray();
    }

    // The reply to "name.internal SRV" as Cloud Map answers it: "1 1 port <task-id>.name.internal" per task (the target a
    // label and a pointer to the question), then each target's A record in the additional section, then OPT.
    private static byte[] ServiceReply(int count, ushort port)
    {
        var reply = WireBuilder.Reply().Question(Name, DnsRecordType.SRV);
        var targets = Enumerable.Range(0, count).Select(i => $"{i:x8}0c4e4f1e9a1b2c3d4e5f6a7b8c9d.{Name}").ToArray();
        foreach (var target in targets)
        {
            reply.Srv(Name, 1, 1, port, target, ttl: 10);
        }

        for (var i = 0; i < count; i++)
        {
            reply.A(targets[i], $"10.0.1.{i + 1}", ttl: 10, section: 2);
        }

        return reply.Opt(1232).ToArray();
    }

    private static void Check(int actual, int expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"parsed {actual} records, expected {expected}");
        }
    }
}
