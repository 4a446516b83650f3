using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

public class DnsResponseParserTests
{
    private const int MaxChain = 8;

    [Fact]
    public void Named_A_answer_gives_three_addresses_with_their_TTL()
    {
        var name = "three.internal";

        var r = DnsResponseParser.Parse(NamedReplies.ThreeA, name, DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(DnsResponseCode.NoError);
        r.Addresses.Select(a => a.Address.ToString()).Should().BeEquivalentTo("127.0.0.2", "127.0.0.3", "127.0.0.4");
        r.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(10) && a.Type == DnsRecordType.A);
        r.Addresses.Should().OnlyContain(a => ReferenceEquals(a.Name, name), "the owner name is the question string itself");
        r.Services.Should().BeEmpty();
        r.CanonicalNames.Should().BeEmpty();
        r.NegativeTtl.Should().BeNull();
        r.UnfollowedTarget.Should().BeNull();
    }

    [Fact]
    public void Named_A_answer_keeps_the_server_order()
    {
        // The capture holds 127.0.0.3, .2, .4 in that order (named shuffles; the parser must not).
        var r = DnsResponseParser.Parse(NamedReplies.ThreeA, "three.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address.ToString()).Should().Equal("127.0.0.3", "127.0.0.2", "127.0.0.4");
    }

    [Fact]
    public void The_glue_in_the_additional_section_is_not_an_answer()
    {
        var r = DnsResponseParser.Parse(NamedReplies.ThreeA, "three.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().NotContain(a => a.Address.Equals(IPAddress.Loopback), "127.0.0.1 is ns1.internal's glue");
    }

    [Fact]
    public void Named_AAAA_answer()
    {
        var r = DnsResponseParser.Parse(NamedReplies.V6Aaaa, "v6.internal", DnsRecordType.AAAA, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address).Should().BeEquivalentTo(new[] { IPAddress.IPv6Loopback, IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2") });
        r.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(60) && a.Type == DnsRecordType.AAAA);
    }

    [Fact]
    public void Named_SRV_answer_takes_target_addresses_from_the_additional_section()
    {
        var r = DnsResponseParser.Parse(NamedReplies.SvcSrv, "svc.internal", DnsRecordType.SRV, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().BeEmpty();
        r.Services.Should().HaveCount(2);
        var a = r.Services.Single(s => s.Target == "task-a.svc.internal");
        var b = r.Services.Single(s => s.Target == "task-b.svc.internal");
        (a.Priority, a.Weight, a.Port, a.Ttl).Should().Be(((ushort)1, (ushort)1, (ushort)3000, TimeSpan.FromSeconds(10)));
        (b.Priority, b.Weight, b.Port).Should().Be(((ushort)1, (ushort)1, (ushort)3001));
        a.Name.Should().Be("svc.internal");
        a.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord("task-a.svc.internal", IPAddress.Parse("127.0.0.11"), TimeSpan.FromSeconds(10)));
        b.Addresses.Should().ContainSingle().Which.Address.Should().Be(IPAddress.Parse("127.0.0.12"));
    }

    [Fact]
    public void Named_SRV_answer_with_an_out_of_zone_target_has_no_addresses()
    {
        var r = DnsResponseParser.Parse(NamedReplies.FarSrv, "far.internal", DnsRecordType.SRV, MaxChain, TestContext.Current.CancellationToken);

        var s = r.Services.Should().ContainSingle().Subject;
        s.Target.Should().Be("host.elsewhere");
        s.Port.Should().Be(4000);
        s.Addresses.Should().BeEmpty("the resolver asks for the target itself");
        r.UnfollowedTarget.Should().BeNull();
    }

    [Fact]
    public void SRV_target_addresses_include_AAAA_and_ignore_other_names_and_the_authority_section()
    {
        var m = WireBuilder.Reply().Question("svc.internal", DnsRecordType.SRV)
            .Srv("svc.internal", 1, 1, 3000, "task-a.svc.internal")
            .A("task-a.svc.internal", "127.0.0.1", 10, section: 1) // authority: not an address of the target
            .A("task-a.svc.internal", "127.0.0.11", 10, section: 2)
            .Aaaa("TASK-A.svc.internal", "::1", 20, section: 2)
            .A("task-b.svc.internal", "127.0.0.12", 10, section: 2)
            .ToArray();

        var r = DnsResponseParser.Parse(m, "svc.internal", DnsRecordType.SRV, MaxChain, TestContext.Current.CancellationToken);

        r.Services.Should().ContainSingle().Which.Addresses.Select(a => (a.Address.ToString(), a.Ttl.TotalSeconds))
            .Should().Equal(("127.0.0.11", 10d), ("::1", 20d));
    }

    [Fact]
    public void Named_CNAME_chain_inside_the_answer_is_followed()
    {
        var r = DnsResponseParser.Parse(NamedReplies.Alias1A, "alias1.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.CanonicalNames.Should().Equal(
            new DnsCanonicalNameRecord("alias1.internal", "alias2.internal", TimeSpan.FromSeconds(30)),
            new DnsCanonicalNameRecord("alias2.internal", "three.internal", TimeSpan.FromSeconds(20)));
        r.Addresses.Should().HaveCount(3).And.OnlyContain(a => a.Name == "three.internal" && a.Ttl == TimeSpan.FromSeconds(10));
        r.UnfollowedTarget.Should().BeNull();
    }

    [Fact]
    public void CNAME_chain_in_any_order_and_case_is_followed()
    {
        // Links out of order and in mixed case; a record for an unrelated name in between.
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A)
            .A("C.INTERNAL", "127.0.0.9", 5)
            .A("other.internal", "127.0.0.99", 5)
            .Cname("b.internal", "c.internal", 7)
            .Cname("A.Internal", "B.internal", 8)
            .ToArray();

        var r = DnsResponseParser.Parse(m, "a.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.CanonicalNames.Select(c => (c.Name, c.Target)).Should().Equal(("a.internal", "B.internal"), ("B.internal", "c.internal"));
        r.Addresses.Should().ContainSingle().Which.Address.Should().Be(IPAddress.Parse("127.0.0.9"));
    }

    [Fact]
    public void A_CNAME_whose_target_the_server_did_not_chase_is_reported_for_a_follow_up_query()
    {
        var r = DnsResponseParser.Parse(NamedReplies.OutCname, "out.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().BeEmpty();
        r.CanonicalNames.Should().ContainSingle().Which.Should().Be(new DnsCanonicalNameRecord("out.internal", "host.elsewhere", TimeSpan.FromSeconds(30)));
        r.UnfollowedTarget.Should().Be("host.elsewhere");
        r.NegativeTtl.Should().BeNull();
    }

    [Fact]
    public void A_CNAME_to_a_name_without_records_of_the_type_is_NODATA_not_a_follow_up()
    {
        // alias CNAME three.internal, then the SOA: the server did chase it and found no AAAA.
        var m = WireBuilder.Reply().Question("alias.internal", DnsRecordType.AAAA)
            .Cname("alias.internal", "three.internal", 30)
            .Soa("internal", 900, 60)
            .ToArray();

        var r = DnsResponseParser.Parse(m, "alias.internal", DnsRecordType.AAAA, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().BeEmpty();
        r.CanonicalNames.Should().ContainSingle();
        r.NegativeTtl.Should().Be(TimeSpan.FromSeconds(60));
        r.UnfollowedTarget.Should().BeNull();
    }

    [Fact]
    public void A_CNAME_loop_gives_DnsFormatException()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A)
            .Cname("a.internal", "b.internal")
            .Cname("b.internal", "c.internal")
            .Cname("c.internal", "b.internal")
            .ToArray();

        Action parse = () => DnsResponseParser.Parse(m, "a.internal", DnsRecordType.A, MaxChain);

        parse.Should().Throw<DnsFormatException>().WithMessage("*loops back to b.internal*");
    }

    [Fact]
    public void A_CNAME_to_itself_gives_DnsFormatException()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A).Cname("a.internal", "a.internal").ToArray();

        Action parse = () => DnsResponseParser.Parse(m, "a.internal", DnsRecordType.A, MaxChain);

        parse.Should().Throw<DnsFormatException>().WithMessage("*loops*");
    }

    [Fact]
    public void A_CNAME_chain_longer_than_the_limit_gives_DnsFormatException()
    {
        var w = WireBuilder.Reply().Question("n0.internal", DnsRecordType.A);
        for (var i = 0; i < 4; i++)
        {
            w.Cname($"n{i}.internal", $"n{i + 1}.internal");
        }

        var m = w.A("n4.internal", "127.0.0.1").ToArray();

        DnsResponseParser.Parse(m, "n0.internal", DnsRecordType.A, 4, TestContext.Current.CancellationToken).Addresses.Should().ContainSingle();
        Action parse = () => DnsResponseParser.Parse(m, "n0.internal", DnsRecordType.A, 3);
        parse.Should().Throw<DnsFormatException>().WithMessage("*longer than 3 links*");
    }

    [Fact]
    public void Named_NXDOMAIN_carries_the_SOA_negative_TTL()
    {
        var r = DnsResponseParser.Parse(NamedReplies.MissingNx, "missing.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        r.Addresses.Should().BeEmpty();
        r.NegativeTtl.Should().Be(TimeSpan.FromSeconds(900));
        r.UnfollowedTarget.Should().BeNull();
    }

    [Fact]
    public void Named_NODATA_carries_the_SOA_negative_TTL()
    {
        var r = DnsResponseParser.Parse(NamedReplies.ThreeNoData, "three.internal", DnsRecordType.AAAA, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(DnsResponseCode.NoError);
        r.Addresses.Should().BeEmpty();
        r.NegativeTtl.Should().Be(TimeSpan.FromSeconds(900));
    }

    [Theory]
    [InlineData(900u, 900u, 900)]
    [InlineData(300u, 900u, 300)]
    [InlineData(3600u, 5u, 5)]
    [InlineData(0u, 900u, 0)]
    public void Negative_TTL_is_min_of_SOA_TTL_and_MINIMUM(uint soaTtl, uint minimum, int expectedSeconds)
    {
        var m = WireBuilder.Reply(3).Question("missing.internal", DnsRecordType.A).Soa("internal", soaTtl, minimum).ToArray();

        var r = DnsResponseParser.Parse(m, "missing.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.NegativeTtl.Should().Be(TimeSpan.FromSeconds(expectedSeconds));
    }

    [Fact]
    public void A_negative_reply_without_SOA_has_no_negative_TTL()
    {
        var m = WireBuilder.Reply(3).Question("missing.internal", DnsRecordType.A).ToArray();

        var r = DnsResponseParser.Parse(m, "missing.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        r.NegativeTtl.Should().BeNull();
    }

    [Fact]
    public void An_SOA_in_the_answer_or_additional_section_is_not_a_negative_TTL()
    {
        var m = WireBuilder.Reply().Question("three.internal", DnsRecordType.AAAA).Soa("internal", 10, 10, section: 0).Soa("internal", 20, 20, section: 2).ToArray();

        var r = DnsResponseParser.Parse(m, "three.internal", DnsRecordType.AAAA, MaxChain, TestContext.Current.CancellationToken);

        r.NegativeTtl.Should().BeNull();
    }

    [Fact]
    public void Records_of_other_names_types_and_classes_are_ignored()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A)
            .A("b.internal", "127.0.0.2")
            .Aaaa("a.internal", "::1")
            .Record(0, "a.internal", DnsRecordType.A, 60, w => w.Raw(127, 0, 0, 3), cls: 3)
            .A("a.internal", "127.0.0.4", 7)
            .ToArray();

        var r = DnsResponseParser.Parse(m, "a.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord("a.internal", IPAddress.Parse("127.0.0.4"), TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public void Named_eight_record_answer()
    {
        var r = DnsResponseParser.Parse(NamedReplies.EightA, "eight.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address.ToString()).Should().BeEquivalentTo(Enumerable.Range(1, 8).Select(i => $"127.0.2.{i}"));
        r.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Named_150_record_answer_over_TCP()
    {
        NamedReplies.ManyTcp.Length.Should().BeGreaterThan(1232, "the answer does not fit the advertised UDP payload");

        var r = DnsResponseParser.Parse(NamedReplies.ManyTcp, "many.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().HaveCount(150);
        r.Addresses.Select(a => a.Address.ToString()).ToHashSet().SetEquals(Enumerable.Range(1, 150).Select(i => $"127.0.1.{i}")).Should().BeTrue();
    }

    [Fact]
    public void Named_truncated_reply_parses_as_empty()
    {
        new DnsMessageReader(NamedReplies.ManyTruncated).Header.IsTruncated.Should().BeTrue();

        var r = DnsResponseParser.Parse(NamedReplies.ManyTruncated, "many.internal", DnsRecordType.A, MaxChain, TestContext.Current.CancellationToken);

        r.Addresses.Should().BeEmpty();
        r.NegativeTtl.Should().BeNull();
    }

    [Fact]
    public void Every_named_reply_parses_for_its_question()
    {
        foreach (var (label, message) in DnsMessageReaderTests.AllNamedReplies())
        {
            var reader = new DnsMessageReader(message);
            var name = DnsName.Read(message, reader.QuestionNameOffset, out _);
            var type = reader.QuestionType;

            var parse = () => DnsResponseParser.Parse(message, name, type, MaxChain);

            parse.Should().NotThrow(label);
        }
    }

    public static TheoryData<string, byte[], DnsRecordType> Malformed()
    {
        const string q = "a.internal";
        var data = new TheoryData<string, byte[], DnsRecordType>
        {
            { "short header", [0x12, 0x34, 0x81], DnsRecordType.A },
            { "loop pointer in an answer owner", WireBuilder.Reply().Question(q, DnsRecordType.A).Pointer(28).U16(1).U16(1).U32(60).U16(4).Raw(1, 2, 3, 4).Counts(1, 1, 0, 0).ToArray(), DnsRecordType.A },
            { "forward pointer in a question", WireBuilder.Reply().Pointer(40).U16(1).U16(1).Raw(new byte[40]).Counts(1, 0, 0, 0).ToArray(), DnsRecordType.A },
            { "pointer out of range", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.CNAME, 60, w => w.Pointer(0x3FF0)).ToArray(), DnsRecordType.A },
            { "truncated record", WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").A(q, "127.0.0.2").ToArray()[..^2], DnsRecordType.A },
            { "answer count larger than the message", WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").Counts(1, 9, 0, 0).ToArray(), DnsRecordType.A },
            { "additional count larger than the message", WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").Counts(1, 1, 0, 1).ToArray(), DnsRecordType.A },
            { "label over 63", WireBuilder.Reply().Question(q, DnsRecordType.A).Raw(0x41).Raw(new byte[0x41]).U8(0).U16(1).U16(1).U32(1).U16(4).Raw(1, 2, 3, 4).Counts(1, 1, 0, 0).ToArray(), DnsRecordType.A },
            { "name over 255", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.CNAME, 60, w => w.Raw([.. Enumerable.Repeat<byte>(9, 300)]).U8(0)).ToArray(), DnsRecordType.A },
            { "A rdlength 6", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.A, 60, w => w.Raw(1, 2, 3, 4, 5, 6)).ToArray(), DnsRecordType.A },
            { "A rdlength 3 (unasked type)", WireBuilder.Reply().Question(q, DnsRecordType.AAAA).Record(0, q, DnsRecordType.A, 60, w => w.Raw(1, 2, 3)).ToArray(), DnsRecordType.AAAA },
            { "AAAA rdlength 15", WireBuilder.Reply().Question(q, DnsRecordType.AAAA).Record(0, q, DnsRecordType.AAAA, 60, w => w.Raw(new byte[15])).ToArray(), DnsRecordType.AAAA },
            { "SRV rdlength 6", WireBuilder.Reply().Question(q, DnsRecordType.SRV).Record(0, q, DnsRecordType.SRV, 60, w => w.U16(1).U16(1).U16(80)).ToArray(), DnsRecordType.SRV },
            { "SRV target address with 2 bytes", WireBuilder.Reply().Question(q, DnsRecordType.SRV).Srv(q, 1, 1, 80, "t.internal").Record(2, "t.internal", DnsRecordType.A, 60, w => w.Raw(1, 2)).ToArray(), DnsRecordType.SRV },
            { "SOA cut short", WireBuilder.Reply(3).Question(q, DnsRecordType.A).Record(1, "internal", DnsRecordType.SOA, 60, w => w.Name("ns1.internal").Name("h.internal").U32(1).U32(2)).ToArray(), DnsRecordType.A },
            { "RDLENGTH past the end", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.A, 60, w => w.Raw(1, 2, 3, 4), rdLength: 0xFFFF).ToArray(), DnsRecordType.A },
            { "named reply cut in the answer", NamedReplies.ThreeA[..40], DnsRecordType.A },
            { "named SRV reply cut in a target", NamedReplies.SvcSrv[..60], DnsRecordType.SRV },
            { "named NXDOMAIN cut in the SOA", NamedReplies.MissingNx[..70], DnsRecordType.A },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_replies_give_DnsFormatException(string what, byte[] message, DnsRecordType type)
    {
        Action parse = () => DnsResponseParser.Parse(message, "a.internal", type, MaxChain);

        parse.Should().Throw<DnsFormatException>(what).Which.Message.Should().StartWith("Malformed DNS message at byte ");
    }

    [Fact]
    public void Every_truncation_of_every_named_reply_gives_DnsFormatException()
    {
        var problems = new List<string>();
        foreach (var (label, message) in DnsMessageReaderTests.AllNamedReplies())
        {
            var name = DnsName.Read(message, 12, out _);
            var type = new DnsMessageReader(message).QuestionType;
            problems.AddRange(Truncations.Check(message, name, type).Select(p => $"{label}: {p}"));
        }

        problems.Should().BeEmpty();
    }
}

/// <summary>Cuts a message at every length (at a stride past 512 bytes, to keep the test fast) and expects DnsFormatException from each.</summary>
internal static class Truncations
{
    public static List<string> Check(byte[] message, string name, DnsRecordType type)
    {
        var problems = new List<string>();
        for (var length = 0; length < message.Length; length += length < 512 ? 1 : 7)
        {
            try
            {
                DnsResponseParser.Parse(message.AsSpan(0, length), name, type, 8);
                problems.Add($"cut to {length} bytes: parsed");
            }
            catch (DnsFormatException)
            {
            }
            catch (Exception ex)
            {
                problems.Add($"cut to {length} bytes: {ex.GetType().Name}: {ex.Message}");
            }
        }

        return problems;
    }
}
