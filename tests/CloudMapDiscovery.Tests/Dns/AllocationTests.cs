using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// The parser allocates its result and little else: the question's name as text (owner names that point to it are that
/// same string) and each other name the reply writes out; no buffers, tables or closures once warm. Measured
/// with the per-thread allocation counter around warm calls (the smallest of several runs, so that a one-off
/// allocation by the runtime cannot make the test flaky).
/// </summary>
public class AllocationTests
{
    private const string Name = "eight.internal";

    [Fact]
    public void Parsing_an_eight_record_A_answer_allocates_only_the_result()
    {
        var message = NamedReplies.EightA;
        var name = new string(Name.AsSpan());
        DnsResponseParser.Parse(message, name, DnsRecordType.A, 8, TestContext.Current.CancellationToken).Addresses.Should().HaveCount(8);

        var parse = Measure(() => DnsResponseParser.Parse(message, name, DnsRecordType.A, 8));
        var result = Measure(() => BuildExpectedResult(name));

        // The bound: three lists (one with room for 8), 8 records, 8 IPAddress objects and the response itself,
        // as allocated by building exactly those objects by hand (about 900 bytes on 64-bit); then the text of the
        // question and of the two other names the reply writes out, in its NS and glue records (internal, ns1.internal).
        result.Should().BeInRange(600, 1024);
        parse.Should().BeLessThanOrEqualTo(result + QuestionText(name) + 96, $"parsing allocated {parse} bytes; the result alone takes {result}");
    }

    [Fact]
    public void Owner_names_are_the_question_string_itself()
    {
        var name = new string(Name.AsSpan());

        var r = DnsResponseParser.Parse(NamedReplies.EightA, name, DnsRecordType.A, 8, TestContext.Current.CancellationToken);

        r.Addresses.Should().HaveCount(8).And.OnlyContain(a => ReferenceEquals(a.Name, name));
    }

    [Fact]
    public void Owner_names_are_reused_even_when_the_server_changes_their_case()
    {
        // A 0x20-style reply: the owner in other case is still "the same name" and gets the caller's string.
        var m = WireBuilder.Reply().Question("Eight.Internal", DnsRecordType.A).A("EIGHT.INTERNAL", "127.0.0.1").A("eight.internal", "127.0.0.2").ToArray();
        var name = new string(Name.AsSpan());

        var r = DnsResponseParser.Parse(m, name, DnsRecordType.A, 8, TestContext.Current.CancellationToken);

        r.Addresses.Should().HaveCount(2).And.OnlyContain(a => ReferenceEquals(a.Name, name));
    }

    [Fact]
    public void Parsing_a_negative_answer_allocates_only_the_result()
    {
        var message = NamedReplies.MissingNx;
        var name = new string("missing.internal".AsSpan());

        var parse = Measure(() => DnsResponseParser.Parse(message, name, DnsRecordType.A, 8));
        var result = Measure(() => new DnsResponse
        {
            ResponseCode = DnsResponseCode.NXDomain,
            Addresses = new List<DnsAddressRecord>(0),
            Services = [],
            CanonicalNames = [],
            NegativeTtl = TimeSpan.FromSeconds(900),
        });

        // Beyond the result: the text of the question and of the SOA's owner and two names (internal, ns1.internal, hostmaster.internal).
        parse.Should().BeLessThanOrEqualTo(result + (3 * QuestionText(name)) + 64);
    }

    [Fact]
    public void A_reply_of_4000_addresses_allocates_only_the_1000_it_keeps()
    {
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        for (var i = 0; i < 4_000; i++)
        {
            w.RecordAt(0, 12, DnsRecordType.A, 5, a => a.Raw(10, 0, (byte)(i >> 8), (byte)i));
        }

        var message = w.ToArray();
        var name = new string(Name.AsSpan());
        DnsResponseParser.Parse(message, name, DnsRecordType.A, 8, TestContext.Current.CancellationToken).Addresses.Should().HaveCount(DnsLimits.MaxRecords);

        var parse = Measure(() => DnsResponseParser.Parse(message, name, DnsRecordType.A, 8));
        var kept = Measure(() =>
        {
            var addresses = new List<DnsAddressRecord>(DnsLimits.MaxRecords);
            for (var i = 0; i < DnsLimits.MaxRecords; i++)
            {
                addresses.Add(new DnsAddressRecord(name, new IPAddress(message.AsSpan(43, 4)), TimeSpan.FromSeconds(5)));
            }

            return new DnsResponse { ResponseCode = DnsResponseCode.NoError, Addresses = addresses, Services = [], CanonicalNames = [] };
        });

        // Its scratch comes from the pool: once warm, a 64 KB reply costs no more than the records it keeps and the question's text.
        parse.Should().BeLessThanOrEqualTo(kept + QuestionText(name), $"parsing allocated {parse} bytes; the 1,000 records kept take {kept}");
    }

    private static DnsResponse BuildExpectedResult(string name)
    {
        var addresses = new List<DnsAddressRecord>(8);
        for (var i = 0; i < 8; i++)
        {
            addresses.Add(new DnsAddressRecord(name, new IPAddress(NamedReplies.EightA.AsSpan(40, 4)), TimeSpan.FromSeconds(5)));
        }

        return new DnsResponse
        {
            ResponseCode = DnsResponseCode.NoError,
            Addresses = addresses,
            Services = [],
            CanonicalNames = [],
        };
    }

    private static long QuestionText(string name) => Measure(() => new string(name.AsSpan()));

    /// <summary>The fewest bytes <paramref name="action"/> allocated on this thread over several warm runs.</summary>
    private static long Measure<T>(Func<T> action)
    {
        for (var i = 0; i < 3; i++)
        {
            GC.KeepAlive(action());
        }

        var least = long.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var result = action();
            var after = GC.GetAllocatedBytesForCurrentThread();
            GC.KeepAlive(result);
            least = Math.Min(least, after - before);
        }

        return least;
    }
}
