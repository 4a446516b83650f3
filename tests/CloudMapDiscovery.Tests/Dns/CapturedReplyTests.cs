using System.Net;
using System.Runtime.CompilerServices;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;
using CloudMapDiscovery.Tests.TestData;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>The parser against the BIND captures in TestData (see TestData/README.md).</summary>
public class CapturedReplyTests
{
    private const int MaxChain = 8;

    /// <summary>Every <c>*.reply.hex</c> in TestData, so that a new capture is covered without a code change.</summary>
    public static TheoryData<string> ReplyFiles() => new(ReplyFileNames());

    internal static IEnumerable<(string Label, byte[] Message)> AllCaptures()
        => ReplyFileNames().Select(file => (file, WireData.Load(file)));

    private static List<string> ReplyFileNames([CallerFilePath] string here = "")
    {
        // WireData.Find falls back to the folder of the file named last: point it at TestData next to this folder.
        var folder = Path.GetDirectoryName(WireData.Find("three-a.reply.hex", Path.Combine(Path.GetDirectoryName(here)!, "..", "TestData", "WireData.cs")))!;
        return [.. Directory.GetFiles(folder, "*.reply.hex").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
    }

    [Theory]
    [MemberData(nameof(ReplyFiles))]
    public void Every_capture_validates_and_parses_for_its_own_question(string file)
    {
        var message = WireData.Load(file);
        var reader = new RecordWalk(message);
        reader.ValidateAll();
        var name = DnsName.Read(message, reader.QuestionNameOffset, out _);

        var r = DnsResponseParser.Parse(message, name, reader.QuestionType, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(reader.Header.ResponseCode);
        foreach (var a in r.Addresses)
        {
            a.Type.Should().Be(reader.QuestionType);
        }
    }

    [Theory]
    [InlineData("three-a.reply.hex")]
    [InlineData("three-a-noedns.reply.hex")]
    public void Three_A_records_in_zone_order(string file)
    {
        var r = DnsResponseParser.Parse(WireData.Load(file), "three.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address.ToString()).Should().Equal("127.0.0.2", "127.0.0.3", "127.0.0.4");
        r.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void TTL_zero_is_kept_as_zero()
    {
        var r = DnsResponseParser.Parse(WireData.Load("ttl0-a.reply.hex"), "ttl0.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord("ttl0.internal", IPAddress.Parse("127.0.0.5"), TimeSpan.Zero));
    }

    [Fact]
    public void SRV_with_targets_in_the_additional_section()
    {
        var r = DnsResponseParser.Parse(WireData.Load("svc-srv.reply.hex"), "svc.internal", DnsRecordType.SRV, MaxChain, TestContext.Current.CancellationToken);

        r.Services.Select(s => (s.Target, s.Port, s.Addresses.Single().Address.ToString()))
            .Should().BeEquivalentTo(new[] { ("task-a.svc.internal", (ushort)3000, "127.0.0.11"), ("task-b.svc.internal", (ushort)3001, "127.0.0.12") });
    }

    [Fact]
    public void SRV_with_an_out_of_zone_target()
    {
        var r = DnsResponseParser.Parse(WireData.Load("far-srv.reply.hex"), "far.internal", DnsRecordType.SRV, MaxChain, TestContext.Current.CancellationToken);

        var s = r.Services.Should().ContainSingle().Subject;
        (s.Target, s.Port).Should().Be(("host.elsewhere", (ushort)4000));
        s.Addresses.Should().BeEmpty();
    }

    [Fact]
    public void AAAA_answer()
    {
        var r = DnsResponseParser.Parse(WireData.Load("v6-aaaa.reply.hex"), "v6.internal", DnsRecordType.AAAA, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address).Should().Equal(IPAddress.IPv6Loopback, IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2"));
    }

    [Fact]
    public void CNAME_chain()
    {
        var r = DnsResponseParser.Parse(WireData.Load("alias1-a.reply.hex"), "alias1.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.CanonicalNames.Select(c => (c.Name, c.Target, c.Ttl.TotalSeconds)).Should().Equal(("alias1.internal", "alias2.internal", 30d), ("alias2.internal", "three.internal", 20d));
        r.Addresses.Should().HaveCount(3).And.OnlyContain(a => a.Name == "three.internal");
    }

    [Theory]
    [InlineData("missing-a-nxdomain.reply.hex", "missing.internal", DnsRecordType.A, DnsResponseCode.NXDomain)]
    [InlineData("three-aaaa-nodata.reply.hex", "three.internal", DnsRecordType.AAAA, DnsResponseCode.NoError)]
    public void Negative_answers_carry_the_SOA_negative_TTL(string file, string name, DnsRecordType type, DnsResponseCode code)
    {
        var r = DnsResponseParser.Parse(WireData.Load(file), name, type, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(code);
        r.Addresses.Should().BeEmpty();
        r.NegativeTtl.Should().Be(TimeSpan.FromSeconds(900));
    }

    [Fact]
    public void A_truncated_reply_has_TC_set_and_may_hold_a_partial_answer()
    {
        // With EDNS (1232 bytes) named sends no answer at all; without EDNS (512 bytes) it sends what fits.
        var withEdns = WireData.Load("many-a-udp.reply.hex");
        var withoutEdns = WireData.Load("many-a-noedns-udp.reply.hex");

        new RecordWalk(withEdns).Header.IsTruncated.Should().BeTrue();
        new RecordWalk(withoutEdns).Header.IsTruncated.Should().BeTrue();
        DnsResponseParser.Parse(withEdns, "many.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken).Addresses.Should().BeEmpty();
        DnsResponseParser.Parse(withoutEdns, "many.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken).Addresses.Count.Should().BeInRange(1, 149);
    }

    [Fact]
    public void The_TCP_answer_holds_all_150_records()
    {
        var r = DnsResponseParser.Parse(WireData.Load("many-a-tcp.reply.hex"), "many.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address.ToString()).Should().Equal(Enumerable.Range(1, 150).Select(i => $"127.0.1.{i}"));
    }

    [Theory]
    [MemberData(nameof(ReplyFiles))]
    public void Every_prefix_of_every_capture_gives_DnsFormatException(string file)
    {
        var message = WireData.Load(file);
        var type = new RecordWalk(message).QuestionType;

        var problems = Truncations.Check(message, "three.internal", type);

        problems.Should().BeEmpty();
    }
}
