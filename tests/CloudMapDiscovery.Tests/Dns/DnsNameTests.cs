using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

public class DnsNameTests
{
    /// <summary>
    /// The example of RFC 1035 section 4.1.4: F.ISI.ARPA at offset 20, FOO.F.ISI.ARPA at 40 as the label FOO
    /// and a pointer to 20, ARPA at 64 as a pointer to 26, and the root at 92.
    /// </summary>
    private static byte[] Rfc1035Example()
    {
        var m = new byte[100];
        byte[] f = [1, (byte)'F', 3, (byte)'I', (byte)'S', (byte)'I', 4, (byte)'A', (byte)'R', (byte)'P', (byte)'A', 0];
        f.CopyTo(m, 20);
        byte[] foo = [3, (byte)'F', (byte)'O', (byte)'O', 0xC0, 20];
        foo.CopyTo(m, 40);
        m[64] = 0xC0;
        m[65] = 26;
        m[92] = 0;
        return m;
    }

    [Fact]
    public void Reads_the_RFC_1035_compression_example()
    {
        var m = Rfc1035Example();

        DnsName.Read(m, 20, out var end20).Should().Be("F.ISI.ARPA");
        end20.Should().Be(32);
        DnsName.Read(m, 40, out var end40).Should().Be("FOO.F.ISI.ARPA");
        end40.Should().Be(46, "the name ends right after its pointer, not where the pointer leads");
        DnsName.Read(m, 64, out var end64).Should().Be("ARPA");
        end64.Should().Be(66);
        DnsName.Read(m, 92, out var end92).Should().BeEmpty("the root name reads as the empty string");
        end92.Should().Be(93);
    }

    [Fact]
    public void Skip_returns_the_offset_past_the_name()
    {
        var m = Rfc1035Example();

        DnsName.Skip(m, 20).Should().Be(32);
        DnsName.Skip(m, 40).Should().Be(46);
        DnsName.Skip(m, 64).Should().Be(66);
        DnsName.Skip(m, 92).Should().Be(93);
    }

    [Theory]
    [InlineData(40, "foo.f.isi.arpa", true)]
    [InlineData(40, "FOO.F.ISI.ARPA", true)]
    [InlineData(40, "Foo.F.Isi.Arpa", true)]
    [InlineData(40, "foo.f.isi.arp", false)]
    [InlineData(40, "foo.f.isi.arpa.x", false)]
    [InlineData(40, "oo.f.isi.arpa", false)]
    [InlineData(40, "foo.fx.isi.arpa", false)]
    [InlineData(40, "foof.isi.arpa", false)]
    [InlineData(40, "fo.o.f.isi.arpa", false)]
    [InlineData(20, "f.isi.arpa", true)]
    [InlineData(64, "arpa", true)]
    [InlineData(64, "arpa.", false)]
    [InlineData(92, "arpa", false)]
    [InlineData(92, "", true)]
    [InlineData(64, "", false)]
    public void EqualsName_compares_ASCII_case_insensitively_through_pointers(int offset, string name, bool expected)
    {
        DnsName.EqualsName(Rfc1035Example(), offset, name).Should().Be(expected);
    }

    [Fact]
    public void ReadOrReuse_returns_the_candidate_itself_when_equal()
    {
        var m = Rfc1035Example();
        var candidate = new string("foo.f.isi.arpa".AsSpan());

        RecordWalk.ReadOrReuse(m, 40, candidate).Should().BeSameAs(candidate);
        var other = RecordWalk.ReadOrReuse(m, 20, candidate);
        other.Should().Be("F.ISI.ARPA").And.NotBeSameAs(candidate);
    }

    [Fact]
    public void Write_produces_uncompressed_labels_and_the_root()
    {
        var buffer = new byte[64];

        var n = DnsNameText.Write(buffer, "name.internal");

        buffer[..n].Should().Equal(4, (byte)'n', (byte)'a', (byte)'m', (byte)'e', 8, (byte)'i', (byte)'n', (byte)'t', (byte)'e', (byte)'r', (byte)'n', (byte)'a', (byte)'l', 0);
        DnsName.Read(buffer, 0, out var end).Should().Be("name.internal");
        end.Should().Be(n);
        DnsNameText.Write(buffer, string.Empty).Should().Be(1, "the root is one zero byte");
    }

    [Fact]
    public void Bytes_that_text_cannot_carry_are_escaped_and_the_escaped_text_is_the_same_name()
    {
        // Labels "a.b", "c d" and 0xFF: a dot inside a label, a space and a non-ASCII byte.
        byte[] wire = [3, (byte)'a', (byte)'.', (byte)'b', 3, (byte)'c', (byte)' ', (byte)'d', 1, 0xFF, 0];
        var m = new WireBuilder().Raw(wire).ToArray();

        var text = DnsName.Read(m, 12, out _);

        text.Should().Be(@"a\046b.c\032d.\255");
        DnsName.EqualsName(m, 12, text).Should().BeTrue("the text form is the wire name, byte for byte");
        DnsName.EqualsName(m, 12, @"A\046B.C\032D.\255").Should().BeTrue("letters compare without case, escapes exactly");
        DnsName.EqualsName(m, 12, "a.b.c d.x").Should().BeFalse();
        DnsName.EqualsName(m, 12, @"a\046b.c\032d.\254").Should().BeFalse();
        DnsName.EqualsName(m, 12, @"a\046b.c\032d").Should().BeFalse();
        var written = new byte[64];
        written[..DnsNameText.Write(written, text)].Should().Equal(wire, "writing the text back gives the bytes the server sent");
    }

    [Fact]
    public void A_name_of_exactly_255_bytes_is_read_and_one_byte_more_is_rejected()
    {
        // 3 labels of 63 and one of 61: 4 * 1 + 3 * 63 + 61 + 1 (root) = 255 bytes.
        var ok = new WireBuilder { Compress = false }.Name(LongName(61)).ToArray();
        var tooLong = new WireBuilder { Compress = false }.Name(LongName(62)).ToArray();

        DnsName.Read(ok, 12, out var end).Should().HaveLength(253);
        end.Should().Be(12 + 255);
        Action read = () => DnsName.Skip(tooLong, 12);
        read.Should().Throw<DnsFormatException>().WithMessage("*longer than 255 bytes*");
    }

    [Fact]
    public void A_name_made_long_by_pointers_is_rejected()
    {
        // Each name is a 63-byte label followed by a pointer to the previous one: five of them make 320 bytes.
        var w = new WireBuilder { Compress = false };
        var previous = w.Position;
        w.Label(new string('a', 63)).U8(0);
        for (var i = 0; i < 4; i++)
        {
            var here = w.Position;
            w.Label(new string((char)('b' + i), 63)).Pointer(previous);
            previous = here;
        }

        var m = w.ToArray();
        Action read = () => DnsName.Read(m, previous, out _);
        read.Should().Throw<DnsFormatException>().WithMessage("*longer than 255 bytes*");
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 12 }, "*does not point backwards*")] // points at itself
    [InlineData(new byte[] { 0xC0, 14, 0xC0, 12 }, "*does not point backwards*")] // forward, then back: a loop
    [InlineData(new byte[] { 0xC0, 20, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0 }, "*does not point backwards*")] // forward to a valid name
    [InlineData(new byte[] { 0xFF, 0xFF }, "*does not point backwards*")] // far out of range
    [InlineData(new byte[] { 0xC0 }, "*compression pointer runs past the end*")] // pointer cut in half
    [InlineData(new byte[] { 5, (byte)'a', (byte)'b' }, "*label runs past the end*")]
    [InlineData(new byte[] { 1, (byte)'a' }, "*name runs past the end*")] // no root label
    [InlineData(new byte[] { 0x40, (byte)'a', 0 }, "*unsupported label type 0x40*")] // "label" of 64: an extended label type
    [InlineData(new byte[] { 0x80, 0 }, "*unsupported label type 0x80*")]
    public void Bad_names_give_DnsFormatException(byte[] name, string message)
    {
        var m = new WireBuilder().Raw(name).ToArray();

        Action skip = () => DnsName.Skip(m, 12);
        Action read = () => DnsName.Read(m, 12, out _);
        Action equals = () => DnsName.EqualsName(m, 12, "a");

        skip.Should().Throw<DnsFormatException>().WithMessage(message);
        read.Should().Throw<DnsFormatException>().WithMessage(message);
        equals.Should().Throw<DnsFormatException>().WithMessage(message);
    }

    [Fact]
    public void A_loop_between_two_earlier_names_is_rejected()
    {
        // Name at 12 is "a" + pointer to 16; name at 16 is "b" + pointer to 12. Starting at 16, the pointer
        // to 12 is backwards, but the one from 12 back to 16 is not below the lowest place already visited.
        var m = new WireBuilder().Raw(1, (byte)'a', 0xC0, 16, 1, (byte)'b', 0xC0, 12).ToArray();

        Action read = () => DnsName.Read(m, 16, out _);

        read.Should().Throw<DnsFormatException>().WithMessage("*does not point backwards*");
    }

    [Fact]
    public void Offsets_outside_the_message_give_DnsFormatException()
    {
        var m = new WireBuilder().ToArray();

        Action past = () => DnsName.Skip(m, m.Length);
        Action negative = () => DnsName.Skip(m, -1);

        past.Should().Throw<DnsFormatException>();
        negative.Should().Throw<DnsFormatException>();
    }

    [Theory]
    [InlineData("name.internal", "name.internal", false)]
    [InlineData("name.internal.", "name.internal", true)]
    [InlineData("Name.Internal", "Name.Internal", false)]
    [InlineData("localhost", "localhost", false)]
    [InlineData("_http._tcp.svc.internal", "_http._tcp.svc.internal", false)]
    public void Normalize_strips_one_trailing_dot(string input, string expected, bool absolute)
    {
        DnsNameText.Normalize(input, out var isAbsolute).Should().Be(expected);
        isAbsolute.Should().Be(absolute);
    }

    [Fact]
    public void Normalize_accepts_the_longest_legal_label_and_name()
    {
        var label = new string('x', 63);
        DnsNameText.Normalize(label + ".internal", out _).Should().Be(label + ".internal");
        var longest = LongName(61);
        longest.Should().HaveLength(253);
        DnsNameText.Normalize(longest, out _).Should().Be(longest);
        DnsNameText.Normalize(longest + ".", out _).Should().Be(longest);
    }

    [Theory]
    [InlineData(".", "is not a host name")]
    [InlineData("a..b", "empty label")]
    [InlineData(".a", "empty label")]
    [InlineData("a.b..", "empty label")]
    [InlineData("a b.internal", "character DNS cannot carry")]
    [InlineData("tab\t.internal", "character DNS cannot carry")]
    [InlineData("caf\u00e9.internal", "punycode")]
    public void Normalize_rejects_bad_names_naming_them(string name, string reason)
    {
        Action act = () => DnsNameText.Normalize(name, out _);

        act.Should().Throw<ArgumentException>()
            .Where(e => e.Message.Contains($"'{name}'", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Normalize_rejects_a_label_over_63_bytes_naming_it()
    {
        var name = new string('x', 64) + ".internal";

        Action act = () => DnsNameText.Normalize(name, out _);

        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains(name, StringComparison.Ordinal) && e.Message.Contains("longer than 63", StringComparison.Ordinal));
    }

    [Fact]
    public void Normalize_rejects_a_name_over_255_bytes_naming_it()
    {
        var name = LongName(62);

        Action act = () => DnsNameText.Normalize(name, out _);

        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains(name, StringComparison.Ordinal) && e.Message.Contains("longer than 255", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Normalize_rejects_empty_names(string name)
    {
        Action act = () => DnsNameText.Normalize(name, out _);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void CountDots_counts_the_dots_of_a_normalised_name()
    {
        DnsNameText.CountDots("name").Should().Be(0);
        DnsNameText.CountDots("name.internal").Should().Be(1);
        DnsNameText.CountDots("task-a.svc.internal").Should().Be(2);
    }

    /// <summary>Three 63-byte labels and one of <paramref name="last"/> bytes.</summary>
    private static string LongName(int last)
        => string.Join('.', new string('a', 63), new string('b', 63), new string('c', 63), new string('d', last));
}
