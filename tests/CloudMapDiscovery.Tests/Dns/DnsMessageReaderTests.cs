using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// <see cref="DnsMessageReader"/> (header, question, each record's checked fixed fields) and <see cref="DnsName"/>, read
/// record by record through the tests' <see cref="RecordWalk"/> over real and hand-built replies.
/// </summary>
public class DnsMessageReaderTests
{
    [Fact]
    public void Reads_the_header_of_a_named_reply()
    {
        var reader = new RecordWalk(NamedReplies.ThreeA);

        reader.Header.Id.Should().Be(0x1001);
        reader.Header.IsResponse.Should().BeTrue();
        reader.Header.IsAuthoritative.Should().BeTrue();
        reader.Header.IsTruncated.Should().BeFalse();
        reader.Header.Opcode.Should().Be(0);
        reader.Header.ResponseCode.Should().Be(DnsResponseCode.NoError);
        reader.Header.QuestionCount.Should().Be(1);
        reader.Header.AnswerCount.Should().Be(3);
        reader.Header.AuthorityCount.Should().Be(1);
        reader.Header.AdditionalCount.Should().Be(2);
    }

    [Fact]
    public void Reads_the_flags_of_truncated_and_negative_replies()
    {
        new RecordWalk(NamedReplies.ManyTruncated).Header.IsTruncated.Should().BeTrue();
        new RecordWalk(NamedReplies.MissingNx).Header.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        var query = new byte[DnsQueryWriter.MaxQuerySize];
        var n = DnsQueryWriter.Write(query, 7, "name.internal", DnsRecordType.A, 1232);
        new RecordWalk(query.AsSpan(0, n)).Header.IsResponse.Should().BeFalse();
    }

    [Fact]
    public void Reads_the_question()
    {
        var reader = new RecordWalk(NamedReplies.ThreeA);

        reader.QuestionNameOffset.Should().Be(12);
        reader.QuestionType.Should().Be(DnsRecordType.A);
        reader.QuestionClass.Should().Be(1);
        reader.QuestionMatches("three.internal", DnsRecordType.A).Should().BeTrue();
        reader.QuestionMatches("THREE.Internal", DnsRecordType.A).Should().BeTrue();
        reader.QuestionMatches("three.internal", DnsRecordType.AAAA).Should().BeFalse();
        reader.QuestionMatches("two.internal", DnsRecordType.A).Should().BeFalse();
        reader.QuestionMatches("three.internal.evil", DnsRecordType.A).Should().BeFalse();
    }

    [Fact]
    public void A_question_of_another_class_or_a_second_question_does_not_match()
    {
        var chaos = WireBuilder.Reply().Question("three.internal", DnsRecordType.A, cls: 3).ToArray();
        var two = WireBuilder.Reply().Question("three.internal", DnsRecordType.A).Question("other.internal", DnsRecordType.A).ToArray();
        var none = WireBuilder.Reply().ToArray();

        new RecordWalk(chaos).QuestionMatches("three.internal", DnsRecordType.A).Should().BeFalse();
        new RecordWalk(two).QuestionMatches("three.internal", DnsRecordType.A).Should().BeFalse();
        var empty = new RecordWalk(none);
        empty.QuestionNameOffset.Should().Be(-1);
        empty.QuestionMatches("three.internal", DnsRecordType.A).Should().BeFalse();
    }

    [Fact]
    public void Walks_every_section_in_order()
    {
        var reader = new RecordWalk(NamedReplies.ThreeA);
        var seen = new List<(DnsSection Section, DnsRecordType Type, ushort Class, uint Ttl, int Length)>();
        var addresses = new List<IPAddress>();

        while (reader.TryReadNext(out var r))
        {
            seen.Add((r.Section, r.Type, r.Class, r.Ttl, r.DataLength));
            if (r.Type == DnsRecordType.A && r.Section == DnsSection.Answer)
            {
                reader.NameEquals(r, "three.internal").Should().BeTrue();
                reader.ReadName(r, "x").Should().Be("three.internal");
                addresses.Add(reader.ReadAddress(r));
            }
        }

        seen.Should().Equal(
            (DnsSection.Answer, DnsRecordType.A, (ushort)1, 10u, 4),
            (DnsSection.Answer, DnsRecordType.A, (ushort)1, 10u, 4),
            (DnsSection.Answer, DnsRecordType.A, (ushort)1, 10u, 4),
            (DnsSection.Authority, DnsRecordType.NS, (ushort)1, 900u, 6),
            (DnsSection.Additional, DnsRecordType.A, (ushort)1, 60u, 4),
            (DnsSection.Additional, DnsRecordType.OPT, (ushort)1232, 0u, 0));
        addresses.Select(a => a.ToString()).Should().BeEquivalentTo("127.0.0.2", "127.0.0.3", "127.0.0.4");
        reader.TryReadNext(out _).Should().BeFalse("the reader stays at the end");
    }

    [Fact]
    public void ReadName_reuses_the_given_string_when_equal()
    {
        var reader = new RecordWalk(NamedReplies.ThreeA);
        reader.TryReadNext(out var r).Should().BeTrue();
        var question = new string("three.internal".AsSpan());

        reader.ReadName(r, question).Should().BeSameAs(question);
    }

    [Fact]
    public void Reads_SRV_fields_and_targets()
    {
        var reader = new RecordWalk(NamedReplies.SvcSrv);
        var found = new List<(ushort, ushort, ushort, string)>();

        while (reader.TryReadNext(out var r) && r.Section == DnsSection.Answer)
        {
            var (priority, weight, port) = reader.ReadServiceFields(r);
            var target = reader.ReadServiceTarget(r);
            reader.ServiceTargetEquals(r, target.ToUpperInvariant()).Should().BeTrue();
            found.Add((priority, weight, port, target));
        }

        found.Should().BeEquivalentTo(new[] { ((ushort)1, (ushort)1, (ushort)3000, "task-a.svc.internal"), ((ushort)1, (ushort)1, (ushort)3001, "task-b.svc.internal") });
    }

    [Fact]
    public void Reads_CNAME_targets()
    {
        var reader = new RecordWalk(NamedReplies.Alias1A);
        reader.TryReadNext(out var first).Should().BeTrue();
        reader.TryReadNext(out var second).Should().BeTrue();

        first.Type.Should().Be(DnsRecordType.CNAME);
        reader.ReadCanonicalNameTarget(first).Should().Be("alias2.internal");
        reader.CanonicalNameTargetEquals(first, "ALIAS2.internal").Should().BeTrue();
        reader.ReadCanonicalNameTarget(second).Should().Be("three.internal");
    }

    [Theory]
    [InlineData(900u, 900u, 900u)]
    [InlineData(300u, 900u, 300u)] // the SOA's own TTL is the smaller
    [InlineData(3600u, 60u, 60u)] // MINIMUM is the smaller
    [InlineData(3600u, 0x8000_0000u, 0u)] // a MINIMUM with the top bit set reads as zero
    [InlineData(0xFFFF_FFFFu, 60u, 0u)] // so does a TTL (RFC 2181 section 8)
    public void Negative_TTL_is_the_lesser_of_SOA_TTL_and_MINIMUM(uint ttl, uint minimum, uint expected)
    {
        var m = WireBuilder.Reply(3).Question("missing.internal", DnsRecordType.A).Soa("internal", ttl, minimum).ToArray();
        var reader = new RecordWalk(m);
        reader.ValidateAll();

        reader.TryReadNext(out var soa).Should().BeTrue();

        soa.Section.Should().Be(DnsSection.Authority);
        reader.ReadNegativeTtl(soa).Should().Be(expected);
    }

    [Fact]
    public void The_negative_TTL_of_a_named_NXDOMAIN_is_900()
    {
        var reader = new RecordWalk(NamedReplies.MissingNx);
        reader.TryReadNext(out var soa).Should().BeTrue();

        soa.Type.Should().Be(DnsRecordType.SOA);
        reader.ReadNegativeTtl(soa).Should().Be(900);
    }

    [Fact]
    public void A_TTL_with_the_top_bit_set_reads_as_zero()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A).A("a.internal", "127.0.0.1", ttl: 0x8000_0001).ToArray();
        var reader = new RecordWalk(m);

        reader.TryReadNext(out var r).Should().BeTrue();

        r.Ttl.Should().Be(0);
        r.TimeToLive.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void ValidateAll_accepts_every_named_reply_and_leaves_the_reader_at_the_start()
    {
        foreach (var (label, message) in AllNamedReplies())
        {
            var reader = new RecordWalk(message);
            reader.ValidateAll();
            var records = 0;
            while (reader.TryReadNext(out _))
            {
                records++;
            }

            records.Should().Be(reader.Header.AnswerCount + reader.Header.AuthorityCount + reader.Header.AdditionalCount, label);
        }
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        var data = new TheoryData<string, byte[], string>();
        var q = "a.internal";

        data.Add("shorter than a header", [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1], "*shorter than a header*");
        data.Add("empty message", [], "*shorter than a header*");
        data.Add("question cut in its name", Cut(WireBuilder.Reply().Question(q, DnsRecordType.A).ToArray(), 16), "*past the end*");
        data.Add("question cut in its type", Cut(WireBuilder.Reply().Question(q, DnsRecordType.A).ToArray(), 2), "*question runs past the end*");
        data.Add("question count larger than the message", WireBuilder.Reply().Question(q, DnsRecordType.A).Counts(3, 0, 0, 0).ToArray(), "*past the end*");
        data.Add("answer count larger than the message", WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").A(q, "127.0.0.2").Counts(1, 5, 0, 0).ToArray(), "*past the end*");
        data.Add("authority count larger than the message", WireBuilder.Reply().Question(q, DnsRecordType.A).Counts(1, 0, 1, 0).ToArray(), "*past the end*");
        data.Add("additional count 65535", WireBuilder.Reply().Question(q, DnsRecordType.A).Counts(1, 0, 0, 65535).ToArray(), "*past the end*");
        data.Add("record header cut", Cut(WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").ToArray(), 9), "*record header*");
        data.Add("record data cut", Cut(WireBuilder.Reply().Question(q, DnsRecordType.A).A(q, "127.0.0.1").ToArray(), 1), "*data of a A record (4 bytes) runs past the end*");
        data.Add("RDLENGTH past the end", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.A, 60, w => w.Raw(127, 0, 0, 1), rdLength: 400).ToArray(), "*runs past the end*");
        data.Add("A with 5 bytes", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.A, 60, w => w.Raw(127, 0, 0, 1, 9)).ToArray(), "*A record has 5 bytes*");
        data.Add("A with 0 bytes", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.A, 60, _ => { }).ToArray(), "*A record has 0 bytes*");
        data.Add("AAAA with 4 bytes", WireBuilder.Reply().Question(q, DnsRecordType.AAAA).Record(0, q, DnsRecordType.AAAA, 60, w => w.Raw(127, 0, 0, 1)).ToArray(), "*AAAA record has 4 bytes*");
        data.Add("A with 5 bytes in additional", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(2, q, DnsRecordType.A, 60, w => w.Raw(1, 2, 3, 4, 5)).ToArray(), "*A record has 5 bytes*");
        data.Add("SRV shorter than its fields", WireBuilder.Reply().Question(q, DnsRecordType.SRV).Record(0, q, DnsRecordType.SRV, 60, w => w.U16(1).U16(1).U16(80)).ToArray(), "*SRV record is shorter*");
        data.Add("SRV target past its RDLENGTH", WireBuilder.Reply().Question(q, DnsRecordType.SRV).Record(0, q, DnsRecordType.SRV, 60, w => w.U16(1).U16(1).U16(80).Name("target.elsewhere"), rdLength: 9).ToArray(), "*SRV record is shorter*");
        data.Add("CNAME target past its RDLENGTH", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.CNAME, 60, w => w.Name("target.elsewhere"), rdLength: 3).ToArray(), "*CNAME target runs past its record*");
        data.Add("SOA without its numbers", WireBuilder.Reply(3).Question(q, DnsRecordType.A).Record(1, "internal", DnsRecordType.SOA, 60, w => w.Name("ns1.internal").Name("hostmaster.internal").U32(1)).ToArray(), "*SOA record is shorter*");
        data.Add("SOA with one name", WireBuilder.Reply(3).Question(q, DnsRecordType.A).Record(1, "internal", DnsRecordType.SOA, 60, w => w.Name("ns1.internal")).ToArray(), "*");
        data.Add("record owner with a forward pointer", WireBuilder.Reply().Question(q, DnsRecordType.A).Pointer(100).U16(1).U16(1).U32(1).U16(4).Raw(1, 2, 3, 4).Counts(1, 1, 0, 0).ToArray(), "*does not point backwards*");
        data.Add("record owner pointing to itself", WireBuilder.Reply().Question(q, DnsRecordType.A).Pointer(28).U16(1).U16(1).U32(1).U16(4).Raw(1, 2, 3, 4).Counts(1, 1, 0, 0).ToArray(), "*does not point backwards*");
        data.Add("question name with a pointer out of range", WireBuilder.Reply().Pointer(0x3FFF).U16(1).U16(1).Counts(1, 0, 0, 0).ToArray(), "*does not point backwards*");
        data.Add("label of 64 bytes", WireBuilder.Reply().Raw(64).Raw(new byte[64]).U8(0).U16(1).U16(1).Counts(1, 0, 0, 0).ToArray(), "*unsupported label type 0x40*");
        data.Add("name over 255 bytes", WireBuilder.Reply().Raw([.. Enumerable.Repeat(new byte[] { 3, 97, 98, 99 }, 70).SelectMany(b => b)]).U8(0).U16(1).U16(1).Counts(1, 0, 0, 0).ToArray(), "*longer than 255 bytes*");
        data.Add("CNAME target with a loop pointer", WireBuilder.Reply().Question(q, DnsRecordType.A).Record(0, q, DnsRecordType.CNAME, 60, w => w.Label("x").Pointer(w.Position - 2)).ToArray(), "*does not point backwards*");
        data.Add("SRV target with a forward pointer", WireBuilder.Reply().Question(q, DnsRecordType.SRV).Record(0, q, DnsRecordType.SRV, 60, w => w.U16(1).U16(1).U16(80).Pointer(500)).ToArray(), "*does not point backwards*");
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_give_DnsFormatException(string what, byte[] message, string expectedMessage)
    {
        Action validate = () =>
        {
            var reader = new RecordWalk(message);
            reader.ValidateAll();
        };

        validate.Should().Throw<DnsFormatException>(what).WithMessage(expectedMessage);
    }

    [Fact]
    public void A_DnsFormatException_names_the_offset()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A).Record(0, "a.internal", DnsRecordType.A, 60, w => w.Raw(1, 2, 3)).ToArray();

        Action validate = () => new RecordWalk(m).ValidateAll();

        var ex = validate.Should().Throw<DnsFormatException>().Which;
        ex.Offset.Should().Be(m.Length - 3);
        ex.Message.Should().StartWith($"Malformed DNS message at byte {m.Length - 3}: an A record has 3 bytes");
    }

    [Fact]
    public void Records_of_types_the_resolver_does_not_read_are_only_bounds_checked()
    {
        var m = WireBuilder.Reply().Question("a.internal", DnsRecordType.A)
            .Record(0, "a.internal", DnsRecordType.TXT, 60, w => w.Raw(3, (byte)'a', (byte)'b', (byte)'c'))
            .Record(0, "a.internal", (DnsRecordType)99, 60, _ => { })
            .Record(2, "a.internal", DnsRecordType.A, 60, w => w.Raw(1, 2, 3, 4), cls: 3)
            .ToArray();

        Action validate = () => new RecordWalk(m).ValidateAll();

        validate.Should().NotThrow();
    }

    internal static IEnumerable<(string Label, byte[] Message)> AllNamedReplies() =>
    [
        (nameof(NamedReplies.ThreeA), NamedReplies.ThreeA),
        (nameof(NamedReplies.SvcSrv), NamedReplies.SvcSrv),
        (nameof(NamedReplies.V6Aaaa), NamedReplies.V6Aaaa),
        (nameof(NamedReplies.Alias1A), NamedReplies.Alias1A),
        (nameof(NamedReplies.MissingNx), NamedReplies.MissingNx),
        (nameof(NamedReplies.ThreeNoData), NamedReplies.ThreeNoData),
        (nameof(NamedReplies.FarSrv), NamedReplies.FarSrv),
        (nameof(NamedReplies.EightA), NamedReplies.EightA),
        (nameof(NamedReplies.ManyTruncated), NamedReplies.ManyTruncated),
        (nameof(NamedReplies.OutCname), NamedReplies.OutCname),
        (nameof(NamedReplies.ManyTcp), NamedReplies.ManyTcp),
    ];

    private static byte[] Cut(byte[] message, int bytes) => message[..^bytes];
}
