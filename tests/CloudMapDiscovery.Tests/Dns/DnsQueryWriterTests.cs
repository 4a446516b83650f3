using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

public class DnsQueryWriterTests
{
    [Fact]
    public void Writes_a_recursive_query_with_one_question_and_an_EDNS_OPT_of_1232()
    {
        var buffer = new byte[DnsQueryWriter.MaxQuerySize];

        var n = DnsQueryWriter.Write(buffer, 0xBEEF, "name.internal", DnsRecordType.A, 1232);

        byte[] expected =
        [
            0xBE, 0xEF, // ID
            0x01, 0x00, // flags: RD only (a query, opcode 0)
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // QD 1, AN 0, NS 0, AR 1
            4, (byte)'n', (byte)'a', (byte)'m', (byte)'e', 8, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0,
            0x00, 0x01, // QTYPE A
            0x00, 0x01, // QCLASS IN
            0x00, // OPT owner: the root
            0x00, 0x29, // TYPE OPT (41)
            0x04, 0xD0, // CLASS: UDP payload size 1232
            0x00, 0x00, 0x00, 0x00, // extended RCODE 0, version 0, DO clear
            0x00, 0x00, // RDLENGTH 0
        ];
        buffer[..n].Should().Equal(expected);
    }

    [Fact]
    public void The_query_is_byte_for_byte_what_the_independent_test_builder_makes()
    {
        var buffer = new byte[DnsQueryWriter.MaxQuerySize];

        var n = DnsQueryWriter.Write(buffer, 0x0102, "svc.internal", DnsRecordType.SRV, 1232);

        var expected = new WireBuilder(0x0102, 0x0100).Question("svc.internal", DnsRecordType.SRV).Opt(1232).ToArray();
        buffer[..n].Should().Equal(expected);
    }

    [Fact]
    public void Without_EDNS_there_is_no_additional_record()
    {
        var buffer = new byte[DnsQueryWriter.MaxQuerySize];

        var n = DnsQueryWriter.Write(buffer, 1, "v6.internal", DnsRecordType.AAAA, 0);

        n.Should().Be(12 + 13 + 4);
        buffer[10..12].Should().Equal(0, 0);
        buffer[(n - 4)..n].Should().Equal(0x00, 0x1C, 0x00, 0x01);
    }

    [Fact]
    public void The_library_reader_reads_the_query_back()
    {
        var buffer = new byte[DnsQueryWriter.MaxQuerySize];
        var n = DnsQueryWriter.Write(buffer, 0x4242, "task-a.svc.internal", DnsRecordType.AAAA, 4096);

        var reader = new RecordWalk(buffer.AsSpan(0, n));
        reader.ValidateAll();

        reader.Header.Id.Should().Be(0x4242);
        reader.Header.IsResponse.Should().BeFalse();
        reader.QuestionMatches("task-a.svc.internal", DnsRecordType.AAAA).Should().BeTrue();
        reader.TryReadNext(out var opt).Should().BeTrue();
        (opt.Section, opt.Type, opt.Class, opt.DataLength).Should().Be((DnsSection.Additional, DnsRecordType.OPT, (ushort)4096, 0));
    }

    [Fact]
    public void The_longest_legal_name_fits_MaxQuerySize()
    {
        var name = string.Join('.', new string('a', 63), new string('b', 63), new string('c', 63), new string('d', 61));
        var buffer = new byte[DnsQueryWriter.MaxQuerySize];

        var n = DnsQueryWriter.Write(buffer, 1, name, DnsRecordType.A, 1232);

        n.Should().Be(DnsQueryWriter.MaxQuerySize);
    }

    [Fact]
    public void IDs_differ_across_calls()
    {
        // 200 draws from 65,536 values: about 0.3 collisions expected, so nearly all are distinct;
        // a constant or counter-free source would give one value.
        var ids = Enumerable.Range(0, 200).Select(_ => DnsQueryWriter.NewId()).ToList();

        ids.Distinct().Count().Should().BeGreaterThan(190);
        ids.Zip(ids.Skip(1)).Count(p => p.First + 1 == p.Second).Should().BeLessThan(5, "IDs must not be sequential");
    }

    [Fact]
    public void Successive_queries_for_the_same_question_carry_different_IDs()
    {
        var first = new byte[DnsQueryWriter.MaxQuerySize];
        var second = new byte[DnsQueryWriter.MaxQuerySize];
        var distinct = new HashSet<ushort>();
        for (var i = 0; i < 20; i++)
        {
            var id = DnsQueryWriter.NewId();
            DnsQueryWriter.Write(first, id, "name.internal", DnsRecordType.A, 1232);
            distinct.Add(new RecordWalk(first).Header.Id);
        }

        distinct.Count.Should().BeGreaterThan(15);
        DnsQueryWriter.Write(second, 7, "name.internal", DnsRecordType.A, 1232);
        second[2..].Should().Equal(first[2..], "only the ID differs between two queries for one question");
    }
}
