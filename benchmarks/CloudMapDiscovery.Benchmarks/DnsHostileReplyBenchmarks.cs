using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Benchmarks.Infrastructure;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// What one hostile reply costs to take in, for each of <see cref="HostileReplies"/>' 64 KB replies (the
/// most TCP carries). One operation is what the exchange does with a reply that matches its query: the ID and
/// question check, the parse, and the count of endpoints the answer turns into (every SRV record's target
/// addresses, as the discovery layer flattens them). A reply the parser rejects counts as -1; rejecting it is
/// the exchange's whole work. Target: at most 5 ms each, allocation bounded by the records kept.
/// </summary>
[MemoryDiagnoser]
public class DnsHostileReplyBenchmarks
{
    private HostileReply _reply = null!;
    private DnsRecordType _type;

    [Params(
        nameof(HostileReplies.IssueChain8000A),
        nameof(HostileReplies.IssueReply600Srv),
        nameof(HostileReplies.ChainAtLimitA),
        nameof(HostileReplies.MaxCountA),
        nameof(HostileReplies.SrvDistinctTargets),
        nameof(HostileReplies.SrvSharedTarget),
        nameof(HostileReplies.CnameMaze),
        nameof(HostileReplies.InPlaceNames))]
    public string Reply { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        _reply = Reply switch
        {
            nameof(HostileReplies.IssueChain8000A) => HostileReplies.IssueChain8000A(),
            nameof(HostileReplies.IssueReply600Srv) => HostileReplies.IssueReply600Srv(),
            nameof(HostileReplies.ChainAtLimitA) => HostileReplies.ChainAtLimitA(),
            nameof(HostileReplies.MaxCountA) => HostileReplies.MaxCountA(),
            nameof(HostileReplies.SrvDistinctTargets) => HostileReplies.SrvDistinctTargets(),
            nameof(HostileReplies.SrvSharedTarget) => HostileReplies.SrvSharedTarget(),
            nameof(HostileReplies.CnameMaze) => HostileReplies.CnameMaze(),
            nameof(HostileReplies.InPlaceNames) => HostileReplies.InPlaceNames(),
            _ => throw new InvalidOperationException($"unknown reply {Reply}"),
        };
        _type = _reply.Type;
        var header = DnsHeader.Read(_reply.Message);
        Console.WriteLine($"// {Reply}: {_reply.Message.Length:N0} bytes, {header.AnswerCount:N0} answer + {header.AdditionalCount:N0} additional records, taken in as {Describe(Take())}");
    }

    [Benchmark]
    public int Take()
    {
        var reader = new DnsMessageReader(_reply.Message);
        if (!reader.QuestionMatches(_reply.Name, _type))
        {
            throw new InvalidOperationException("the hostile reply must match its question to reach the parser");
        }

        try
        {
            var response = DnsResponseParser.Parse(_reply.Message, _reply.Name, _type, _reply.MaxCnameChain);
            var endpoints = response.Addresses.Count;
            foreach (var service in response.Services)
            {
                endpoints += service.Addresses.Count;
            }

            return endpoints;
        }
        catch (DnsFormatException)
        {
            return -1;
        }
    }

    private static string Describe(int endpoints) => endpoints < 0 ? "a rejection (DnsFormatException)" : $"{endpoints:N0} endpoints";
}
