using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.TestData;

/// <summary>Guards the hand-assembled examples against accidental edits (sizes and header counts as documented).</summary>
public sealed class RfcExamplesTests
{
    [Fact]
    public void Well_formed_examples_have_the_documented_sizes_and_counts()
    {
        RfcExamples.CompressedA.Should().HaveCount(62);
        RawDns.Counts(RfcExamples.CompressedA).Should().Be((1, 2, 0, 0));
        RfcExamples.PointerIntoRdata.Should().HaveCount(70);
        RawDns.Counts(RfcExamples.PointerIntoRdata).Should().Be((1, 2, 0, 0));
        RfcExamples.SrvWithCompressedTarget.Should().HaveCount(73);
        RawDns.Counts(RfcExamples.SrvWithCompressedTarget).Should().Be((1, 1, 0, 1));
    }

    [Fact]
    public void Malformed_examples_differ_from_their_base_only_where_documented()
    {
        RfcExamples.AnswerCountTooLarge.Should().HaveCount(62);
        RawDns.Counts(RfcExamples.AnswerCountTooLarge).Answers.Should().Be(3);
        RfcExamples.RdataTruncated.Should().HaveCount(60);
        RfcExamples.HeaderTruncated.Should().HaveCount(7);
        RfcExamples.ReservedLabelType[12].Should().Be(0x41);
        RfcExamples.PointerLoop.Should().HaveCount(46);
        RfcExamples.PointerLoop[30..32].Should().Equal(0xC0, 30);
        RfcExamples.PointerCycle[30..32].Should().Equal(0xC0, 46);
        RfcExamples.PointerCycle[46..48].Should().Equal(0xC0, 30);
        RfcExamples.PointerOutOfRange[31].Should().Be(0xFF);
        RfcExamples.NameTooLong.Should().HaveCount(12 + (4 * 64) + 1 + 4);
    }

    [Fact]
    public void Each_property_returns_a_fresh_copy()
    {
        var a = RfcExamples.CompressedA;
        a[0] = 0;
        RfcExamples.CompressedA[0].Should().Be(0x12);
    }
}
