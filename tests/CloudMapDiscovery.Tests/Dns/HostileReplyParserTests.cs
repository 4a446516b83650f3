using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Hostile replies at the parser: pointer chains, record counts at their maximum, SRV records multiplying their targets'
/// addresses, CNAME chains hidden among decoys. Each reply matches its question, so all of it reaches the parser.
/// (What these cost is measured by DnsHostileReplyBenchmarks, not here.)
/// </summary>
public class HostileReplyParserTests
{
    private const string Name = "name.internal";

    [Fact]
    public void An_owner_8000_pointers_away_from_its_name_is_rejected()
    {
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        var head = w.PointerChain(12, 8_000);
        for (var i = 0; i < 600; i++)
        {
            w.RecordAt(0, head, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1));
        }

        Action parse = () => DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.A, 8);

        parse.Should().Throw<DnsFormatException>().WithMessage("*more than 127 compression pointers*");
    }

    [Fact]
    public void Owners_127_pointers_away_are_read_and_matched()
    {
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        var head = w.PointerChain(12, 126);
        w.RecordAt(0, head, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1)).RecordAt(0, head, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 2));

        var r = DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.A, 8, TestContext.Current.CancellationToken);

        r.Addresses.Select(a => a.Address.ToString()).Should().Equal("10.0.0.1", "10.0.0.2");
    }

    [Theory]
    [InlineData(1_000, 1_000, false)]
    [InlineData(1_001, 1_000, true)]
    [InlineData(4_000, 1_000, true)]
    public void At_most_1000_addresses_are_kept_the_first_ones(int records, int kept, bool limited)
    {
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        for (var i = 0; i < records; i++)
        {
            w.RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, (byte)(i >> 8), (byte)i));
        }

        var r = DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.A, 8, TestContext.Current.CancellationToken);

        r.Addresses.Should().HaveCount(kept);
        r.Addresses[^1].Address.Should().Be(new IPAddress([10, 0, (byte)((kept - 1) >> 8), (byte)(kept - 1)]), "the records are kept in reply order");
        r.ReachedRecordLimit.Should().Be(limited);
        DnsLimits.MaxRecords.Should().Be(1_000);
    }

    [Fact]
    public void SRV_records_naming_one_target_each_get_its_addresses_in_a_list_of_their_own()
    {
        // Three ports on one host (legitimate), and the host's two addresses.
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.SRV)
            .Srv(Name, 1, 1, 3000, "host.internal").Srv(Name, 1, 1, 3001, "HOST.internal").Srv(Name, 1, 1, 3002, "host.internal")
            .A("host.internal", "10.0.0.1", section: 2).A("host.internal", "10.0.0.2", section: 2);

        var r = DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.SRV, 8, TestContext.Current.CancellationToken);

        r.Services.Select(s => s.Port).Should().Equal(3000, 3001, 3002);
        r.Services.Should().OnlyContain(s => s.Addresses.Select(a => a.Address.ToString()).SequenceEqual(new[] { "10.0.0.1", "10.0.0.2" }));
        r.Services.Select(s => s.Addresses).Should().OnlyHaveUniqueItems("no two records share one list, which a change to one would change for all");
        r.Services.Should().OnlyContain(s => s.Addresses is DnsAddressRecord[] && s.TargetError == null);
        r.Services[1].Target.Should().Be("host.internal", "the first record naming the target gives its text");
        r.ReachedRecordLimit.Should().BeFalse();
    }

    [Fact]
    public void SRV_records_times_their_targets_addresses_stay_within_1000_endpoints()
    {
        // The measured hostile reply's 360,000: 600 SRV records naming one target that has 600 addresses.
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.SRV);
        for (var i = 0; i < 600; i++)
        {
            var port = (ushort)(1000 + i);
            w.RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(port).Pointer(12));
        }

        for (var i = 0; i < 600; i++)
        {
            w.RecordAt(2, 12, DnsRecordType.A, 10, a => a.Raw(10, 0, (byte)(i >> 8), (byte)i));
        }

        var r = DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.SRV, 8, TestContext.Current.CancellationToken);

        r.Services.Sum(s => Math.Max(1, s.Addresses.Count)).Should().BeLessThanOrEqualTo(DnsLimits.MaxRecords);
        r.Services.Should().ContainSingle("a second record would double 600 endpoints past the limit").Which.Addresses.Should().HaveCount(600);
        r.ReachedRecordLimit.Should().BeTrue();
    }

    [Fact]
    public void Many_distinct_SRV_targets_each_get_exactly_their_own_addresses()
    {
        // Targets' A records in the opposite order to the SRV records: matching must not depend on order.
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.SRV);
        for (var i = 0; i < 300; i++)
        {
            w.Srv(Name, 1, 1, (ushort)(2000 + i), $"t{i}.{Name}");
        }

        for (var i = 299; i >= 0; i--)
        {
            w.A($"t{i}.{Name}", $"10.0.{i >> 8}.{i & 0xFF}", section: 2);
        }

        var r = DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.SRV, 8, TestContext.Current.CancellationToken);

        r.Services.Should().HaveCount(300);
        foreach (var s in r.Services)
        {
            var n = s.Port - 2000;
            s.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord(s.Target, IPAddress.Parse($"10.0.{n >> 8}.{n & 0xFF}"), TimeSpan.FromSeconds(60)));
        }
    }

    [Fact]
    public void A_CNAME_chain_among_decoys_that_differ_only_in_the_last_label_is_followed()
    {
        // Decoys first, then the links in reverse order; the decoys' owner shares every label but the last with each link.
        var prefix = string.Join('.', Enumerable.Repeat("a", 100));
        string Link(int i) => $"{prefix}.c{i}";
        var w = WireBuilder.Reply().Question(Link(0), DnsRecordType.A);
        for (var i = 0; i < 300; i++)
        {
            w.A($"{prefix}.zz", "10.9.9.9");
        }

        for (var i = 7; i >= 0; i--)
        {
            w.Cname(Link(i), Link(i + 1), (uint)(100 + i));
        }

        var r = DnsResponseParser.Parse(w.A(Link(8), "10.0.0.8").ToArray(), Link(0), DnsRecordType.A, 8, TestContext.Current.CancellationToken);

        r.CanonicalNames.Select(c => c.Target).Should().Equal(Enumerable.Range(1, 8).Select(Link));
        r.Addresses.Should().ContainSingle().Which.Should().Be(new DnsAddressRecord(Link(8), IPAddress.Parse("10.0.0.8"), TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void A_name_is_accepted_exactly_when_the_plain_walk_accepts_it()
    {
        // At X a label holding the byte 0 (so X+1 is a root), at S the label "n" and a pointer to X+1. The name at S
        // is "n" (its pointer goes back); walked from X, the same pointer leads into the walk's own path, which the
        // pointer rule forbids. Parsing the valid one first must not make the parser accept the other.
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        var x = w.Position + 12; // inside the NULL record's data, after its 12 header bytes (pointer owner, fields, length)
        var s = x + 2;
        w.RecordAt(0, 12, WireBuilder.NullType, 0, d => d.U8(1).U8(0).U8(1).U8((byte)'n').Pointer(x + 1));
        w.RecordAt(0, s, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1));
        var valid = w.ToArray();
        var invalid = w.RecordAt(0, x, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 2)).ToArray();

        DnsName.Read(valid, s, out _).Should().Be("n");
        Action plain = () => DnsName.Skip(invalid, x);
        plain.Should().Throw<DnsFormatException>().WithMessage("*does not point backwards*");

        DnsResponseParser.Parse(valid, Name, DnsRecordType.A, 8, TestContext.Current.CancellationToken).Addresses.Should().BeEmpty();
        Action parse = () => DnsResponseParser.Parse(invalid, Name, DnsRecordType.A, 8);
        parse.Should().Throw<DnsFormatException>().WithMessage("*does not point backwards*");
    }

    [Fact]
    public void A_long_reply_is_read_within_its_time_the_parser_checks_the_token()
    {
        var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        for (var i = 0; i < 200; i++)
        {
            w.RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, 1));
        }

        using var expired = new CancellationTokenSource();
        expired.Cancel();

        Action parse = () => DnsResponseParser.Parse(w.ToArray(), Name, DnsRecordType.A, 8, expired.Token);

        parse.Should().Throw<OperationCanceledException>();
    }
}
