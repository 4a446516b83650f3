using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>Hostile names at the name level: text escapes that round-trip to the wire, and the bound on pointer hops.</summary>
public class DnsNameEscapeTests
{
    [Theory]
    [InlineData(@"a\.b.internal", @"a\046b.internal", 3)]
    [InlineData(@"a\046b.internal", @"a\046b.internal", 3)]
    [InlineData(@"\097pi.internal", "api.internal", 3)]
    [InlineData(@"x\\y.internal", @"x\092y.internal", 3)]
    [InlineData(@"\255.internal.", @"\255.internal", 1)]
    public void Normalize_takes_zone_file_escapes_and_returns_canonical_text(string input, string expected, int firstLabelBytes)
    {
        var normalized = DnsNameText.Normalize(input, out _);

        normalized.Should().Be(expected);
        var wire = new byte[DnsQueryWriter.MaxQuerySize];
        DnsNameText.Write(wire, normalized);
        wire[0].Should().Be((byte)firstLabelBytes);
        DnsName.EqualsName(wire, 0, normalized).Should().BeTrue();
    }

    [Theory]
    [InlineData(@"a\.", false)]
    [InlineData(@"a\\.", true)]
    public void A_trailing_dot_makes_a_name_absolute_unless_escaped(string input, bool absolute)
    {
        DnsNameText.Normalize(input, out var isAbsolute);

        isAbsolute.Should().Be(absolute);
    }

    [Theory]
    [InlineData(@"a\")]
    [InlineData(@"a\25")]
    [InlineData(@"a\256.internal")]
    public void Normalize_rejects_a_broken_escape_naming_it(string name)
    {
        Action act = () => DnsNameText.Normalize(name, out _);

        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains(name, StringComparison.Ordinal) && e.Message.Contains("escape", StringComparison.Ordinal));
    }

    [Fact]
    public void A_label_of_63_escaped_bytes_is_one_label_that_a_query_can_carry()
    {
        // The issue's case: 63 bytes of 0xFF read as 252 characters of \255, which the old writer took for one huge label.
        byte[] wire = [63, .. Enumerable.Repeat((byte)0xFF, 63), 8, .. "internal"u8, 0];
        var m = new WireBuilder().Raw(wire).ToArray();
        var text = DnsName.Read(m, 12, out _);

        var query = new byte[DnsQueryWriter.MaxQuerySize];
        var length = DnsQueryWriter.Write(query, 1, text, DnsRecordType.A, 1232);

        query.AsSpan(12, wire.Length).ToArray().Should().Equal(wire);
        length.Should().BeLessThanOrEqualTo(DnsQueryWriter.MaxQuerySize);
    }

    [Theory]
    [InlineData(DnsName.MaxPointerHops, true)]
    [InlineData(DnsName.MaxPointerHops + 1, false)]
    [InlineData(8_000, false)]
    public void A_name_may_follow_at_most_127_pointers(int hops, bool accepted)
    {
        // "a" at 12, then a chain of pointers each to the one before: the last is `hops` pointers from the name.
        var w = new WireBuilder { Compress = false }.Label("a").U8(0);
        var previous = 12;
        for (var i = 0; i < hops; i++)
        {
            var here = w.Position;
            w.Pointer(previous);
            previous = here;
        }

        var m = w.ToArray();
        Action read = () => DnsName.Read(m, previous, out _);
        Action equals = () => DnsName.EqualsName(m, previous, "a");

        if (accepted)
        {
            DnsName.Read(m, previous, out var end).Should().Be("a");
            end.Should().Be(previous + 2);
            DnsName.EqualsName(m, previous, "A").Should().BeTrue();
        }
        else
        {
            read.Should().Throw<DnsFormatException>().WithMessage("*more than 127 compression pointers*");
            equals.Should().Throw<DnsFormatException>();
        }
    }
}
