using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>The fuzz test's hostile half: pointer chains and many-record replies, mutated the same way.</summary>
public partial class ParserFuzzTests
{
    [Fact]
    public void Mutated_pointer_chains_and_many_record_replies_give_only_DnsFormatException()
    {
        // The hostile shapes, near and past every bound: chains of 1 to 300 pointers, more records than are kept, SRV
        // records multiplying one target's addresses, many targets, a CNAME chain among decoys, the longest names.
        // Fewer iterations than above: each message is kilobytes, not a hundred bytes.
        var corpus = HostileCorpus();
        var rng = new Random(Seed ^ 0x5EED);
        var failures = new List<string>();
        var (parsed, rejected, cut) = (0, 0, 0);
        for (var i = 0; i < HostileIterations; i++)
        {
            var seed = corpus[rng.Next(corpus.Count)];
            var message = (byte[])seed.Message.Clone();
            for (var m = rng.Next(4); m > 0; m--)
            {
                Mutate(rng, ref message);
            }

            var ok = Exercise(message, seed.Name, seed.Type, 8, readDirectly: i % 8 == 0, out var failure);
            if (failure is null && ok)
            {
                var r = DnsResponseParser.Parse(message, seed.Name, seed.Type, 8, TestContext.Current.CancellationToken);
                var kept = r.Addresses.Count + r.Services.Sum(s => Math.Max(1, s.Addresses.Count));
                failure = kept > DnsLimits.MaxRecords ? $"kept {kept} records, more than {DnsLimits.MaxRecords}" : null;
                cut += r.ReachedRecordLimit ? 1 : 0;
            }

            if (failure is not null)
            {
                if (failures.Count < 10)
                {
                    failures.Add($"iteration {i} ({seed.Name} {seed.Type}, {message.Length} bytes): {failure}");
                }

                continue;
            }

            (parsed, rejected) = ok ? (parsed + 1, rejected) : (parsed, rejected + 1);
        }

        _output.WriteLine($"{HostileIterations} hostile messages: parsed {parsed} (cut to the record limit {cut}), rejected {rejected}");
        failures.Should().BeEmpty("only DnsFormatException may come out of the codec, and no more records than the limit");
        parsed.Should().BeGreaterThan(HostileIterations / 10);
        rejected.Should().BeGreaterThan(HostileIterations / 10);
        cut.Should().BeGreaterThan(0, "some replies hold more records than are kept");
    }

    private const int HostileIterations = 1_200;

    private static List<Sample> HostileCorpus()
    {
        const string Name = "name.internal";
        var samples = new List<Sample>();
        foreach (var hops in new[] { 1, 63, 126, 127, 300 })
        {
            var w = WireBuilder.Reply().Question(Name, DnsRecordType.A);
            var head = w.PointerChain(12, hops);
            for (var i = 0; i < 20; i++)
            {
                w.RecordAt(0, head, DnsRecordType.A, 60, a => a.Raw(10, 0, 0, (byte)i));
            }

            samples.Add(new(Name, DnsRecordType.A, w.ToArray()));
        }

        var many = WireBuilder.Reply().Question(Name, DnsRecordType.A);
        for (var i = 0; i < 1_010; i++)
        {
            many.RecordAt(0, 12, DnsRecordType.A, 60, a => a.Raw(10, 0, (byte)(i >> 8), (byte)i));
        }

        samples.Add(new(Name, DnsRecordType.A, many.ToArray()));

        var shared = WireBuilder.Reply().Question(Name, DnsRecordType.SRV);
        for (var i = 0; i < 40; i++)
        {
            var port = (ushort)(1 + i);
            shared.RecordAt(0, 12, DnsRecordType.SRV, 10, s => s.U16(1).U16(1).U16(port).Pointer(12));
        }

        for (var i = 0; i < 40; i++)
        {
            shared.RecordAt(2, 12, DnsRecordType.A, 10, a => a.Raw(10, 1, 0, (byte)i));
        }

        samples.Add(new(Name, DnsRecordType.SRV, shared.ToArray()));

        var distinct = WireBuilder.Reply().Question(Name, DnsRecordType.SRV);
        for (var i = 0; i < 150; i++)
        {
            distinct.Srv(Name, 1, 1, 3000, $"t{i}.{Name}");
        }

        for (var i = 0; i < 150; i++)
        {
            distinct.A($"t{i}.{Name}", $"10.2.0.{i}", section: 2).Aaaa($"t{i}.{Name}", $"fd00::{i:x}", section: 2);
        }

        samples.Add(new(Name, DnsRecordType.SRV, distinct.ToArray()));

        var prefix = string.Join('.', Enumerable.Repeat("a", 100));
        var maze = WireBuilder.Reply().Question(prefix + ".c0", DnsRecordType.A);
        for (var i = 0; i < 100; i++)
        {
            maze.A(prefix + ".zz", "10.9.9.9");
        }

        for (var i = 7; i >= 0; i--)
        {
            maze.Cname($"{prefix}.c{i}", $"{prefix}.c{i + 1}");
        }

        samples.Add(new(prefix + ".c0", DnsRecordType.A, maze.A($"{prefix}.c8", "10.0.0.8").ToArray()));

        var longest = string.Join('.', Enumerable.Repeat("a", 127));
        var deep = WireBuilder.Reply().Question(longest, DnsRecordType.A);
        var deepHead = deep.PointerChain(12, 126);
        for (var i = 0; i < 50; i++)
        {
            deep.RecordAt(0, deepHead, DnsRecordType.A, 60, a => a.Raw(10, 3, 0, (byte)i));
        }

        samples.Add(new(longest, DnsRecordType.A, deep.ToArray()));
        return samples;
    }
}
