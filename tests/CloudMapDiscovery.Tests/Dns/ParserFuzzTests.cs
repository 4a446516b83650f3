using System.Buffers.Binary;
using System.Diagnostics;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Tests.Dns;

/// <summary>
/// Randomised robustness of the codec with a fixed seed, so that a failure reproduces: mutated real replies
/// (bit flips, byte replacements, truncations, inserted compression pointers, changed counts, spliced
/// bytes) and wholly random ones. The only exception allowed out is <see cref="DnsFormatException"/>; and
/// once a message has passed <c>ValidateAll</c>, reading any record it holds must not throw at all.
/// </summary>
[Collection(DnsTimingGroup.Name)]
public partial class ParserFuzzTests
{
    private const int Seed = 0x0D15_C0DE;
    private const int Iterations = 100_000;
    private const int Partitions = 4;

    private readonly ITestOutputHelper _output;

    public ParserFuzzTests(ITestOutputHelper output) => _output = output;

    private sealed record Sample(string Name, DnsRecordType Type, byte[] Message);

    [Fact]
    public void Mutated_and_random_replies_give_only_DnsFormatException()
    {
        var corpus = Corpus();
        var stopwatch = Stopwatch.StartNew();

        // Fixed partitions, each with its own seeded generator: the same messages whatever the scheduling.
        var results = new PartitionResult[Partitions];
        for (var p = 0; p < Partitions; p++) { results[p] = RunPartition(corpus, p, Iterations / Partitions); }
        stopwatch.Stop();

        var stats = new Dictionary<string, (int Ok, int Rejected)>();
        foreach (var (kind, (good, rejected)) in results.SelectMany(r => r.Stats))
        {
            var s = stats.GetValueOrDefault(kind);
            stats[kind] = (s.Ok + good, s.Rejected + rejected);
        }

        foreach (var (kind, (good, rejected)) in stats.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            _output.WriteLine($"{kind,-10} parsed {good,7}  rejected {rejected,7}");
        }

        _output.WriteLine($"{Iterations} messages in {stopwatch.ElapsedMilliseconds} ms");

        results.SelectMany(r => r.Failures).Should().BeEmpty("only DnsFormatException may come out of the codec");
        var totalOk = stats.Values.Sum(v => v.Ok);
        var totalRejected = stats.Values.Sum(v => v.Rejected);
        (totalOk + totalRejected).Should().Be(Iterations);
        totalOk.Should().BeGreaterThan(Iterations / 20, "mutations that keep the message well formed must parse");
        totalRejected.Should().BeGreaterThan(Iterations / 20, "most mutations break the message");
        stats.Keys.Should().Contain(["random", "flip", "replace", "truncate", "pointer", "count", "splice", "mixed"]);
        foreach (var (kind, (good, rejected)) in stats)
        {
            if (kind is not ("random" or "truncate"))
            {
                good.Should().BeGreaterThan(0, $"some {kind} mutations leave a parseable message");
            }

            rejected.Should().BeGreaterThan(0, $"some {kind} mutations break the message");
        }
    }

    private sealed record PartitionResult(Dictionary<string, (int Ok, int Rejected)> Stats, List<string> Failures);

    private static PartitionResult RunPartition(List<Sample> corpus, int partition, int iterations)
    {
        var rng = new Random(Seed + partition);
        var stats = new Dictionary<string, (int Ok, int Rejected)>();
        var failures = new List<string>();
        for (var i = 0; i < iterations; i++)
        {
            var seed = corpus[rng.Next(corpus.Count)];
            string kind;
            byte[] message;
            if (rng.Next(10) == 0)
            {
                kind = "random";
                message = RandomMessage(rng, seed);
            }
            else
            {
                message = (byte[])seed.Message.Clone();
                var mutations = rng.Next(3) == 0 ? 2 + rng.Next(6) : 1;
                kind = Mutate(rng, ref message);
                for (var m = 1; m < mutations; m++)
                {
                    Mutate(rng, ref message);
                    kind = "mixed";
                }
            }

            // Ask the sample's own question most of the time, sometimes another type.
            var type = rng.Next(8) == 0 ? (DnsRecordType)(rng.Next(3) switch { 0 => 1, 1 => 28, _ => 33 }) : seed.Type;
            // Parse starts with the reader and ValidateAll, so every message has been through them; every fourth
            // one is also given to them directly, and then to every read helper. (A Debug build of the library
            // parses in tens of microseconds and an exception costs as much again: this keeps the test fast.)
            var ok = Exercise(message, seed.Name, type, rng.Next(4) == 0 ? rng.Next(0, 3) : 8, readDirectly: i % 4 == 0, out var failure);
            if (failure is not null)
            {
                if (failures.Count < 10)
                {
                    failures.Add($"partition {partition} iteration {i} ({kind}, {seed.Name} {type}): {failure}\n  {Convert.ToHexString(message)}");
                }

                continue;
            }

            var s = stats.GetValueOrDefault(kind);
            stats[kind] = ok ? (s.Ok + 1, s.Rejected) : (s.Ok, s.Rejected + 1);
        }

        return new PartitionResult(stats, failures);
    }

    /// <summary>
    /// Runs the parser, then (when asked) the reader with ValidateAll and, if it passes, every read helper.
    /// Returns whether the parser accepted the message; <paramref name="failure"/> is set when anything but DnsFormatException escaped, or when a
    /// read after a successful ValidateAll threw at all.
    /// </summary>
    private static bool Exercise(byte[] message, string name, DnsRecordType type, int maxChain, bool readDirectly, out string? failure)
    {
        failure = null;
        bool parsed;
        try
        {
            var response = DnsResponseParser.Parse(message, name, type, maxChain);
            parsed = true;
            if (response.Addresses.Count + response.Services.Count > 0 && response.NegativeTtl is not null)
            {
                failure = "a positive answer carries a negative TTL";
                return false;
            }
        }
        catch (DnsFormatException)
        {
            parsed = false;
        }
        catch (Exception ex)
        {
            failure = $"Parse threw {ex.GetType().Name}: {ex.Message}";
            return false;
        }

        if (!readDirectly)
        {
            return parsed;
        }

        bool validated;
        try
        {
            var reader = new RecordWalk(message);
            reader.ValidateAll();
            validated = true;
        }
        catch (DnsFormatException)
        {
            validated = false;
        }
        catch (Exception ex)
        {
            failure = $"ValidateAll threw {ex.GetType().Name}: {ex.Message}";
            return false;
        }

        if (validated)
        {
            try
            {
                ReadEverything(message, name, type);
            }
            catch (Exception ex)
            {
                failure = $"reading a validated message threw {ex.GetType().Name}: {ex.Message}";
                return false;
            }
        }
        else if (parsed)
        {
            failure = "Parse accepted a message that ValidateAll rejects";
            return false;
        }

        return parsed;
    }

    private static void ReadEverything(byte[] message, string name, DnsRecordType type)
    {
        var reader = new RecordWalk(message);
        _ = reader.QuestionMatches(name, type);
        while (reader.TryReadNext(out var r))
        {
            _ = reader.ReadName(r, name);
            _ = reader.NameEquals(r, name);
            switch (r.Type)
            {
                case DnsRecordType.A:
                case DnsRecordType.AAAA:
                    _ = reader.ReadAddress(r);
                    break;
                case DnsRecordType.CNAME:
                    _ = reader.ReadCanonicalNameTarget(r);
                    _ = reader.CanonicalNameTargetEquals(r, name);
                    break;
                case DnsRecordType.SRV:
                    _ = reader.ReadServiceFields(r);
                    _ = reader.ReadServiceTarget(r);
                    _ = reader.ServiceTargetEquals(r, name);
                    break;
                case DnsRecordType.SOA:
                    _ = reader.ReadNegativeTtl(r);
                    break;
            }
        }
    }

    private static string Mutate(Random rng, ref byte[] m)
    {
        if (m.Length == 0)
        {
            m = [(byte)rng.Next(256)];
            return "splice";
        }

        switch (rng.Next(7))
        {
            case 0:
                {
                    var at = rng.Next(m.Length);
                    m[at] ^= (byte)(1 << rng.Next(8));
                    return "flip";
                }

            case 1:
                {
                    var at = rng.Next(m.Length);
                    m[at] = rng.Next(3) == 0 ? (byte)rng.Next(256) : Interesting[rng.Next(Interesting.Length)];
                    return "replace";
                }

            case 2:
                m = m[..rng.Next(m.Length)];
                return "truncate";

            case 3:
                {
                    // A compression pointer written over two bytes (or inserted), aimed anywhere: backwards
                    // (valid or into the middle of a label), at itself, forwards or past the end.
                    var at = rng.Next(m.Length);
                    var target = rng.Next(4) switch
                    {
                        0 => at,
                        1 => rng.Next(at + 1),
                        2 => rng.Next(12, 64),
                        _ => rng.Next(0x4000),
                    };
                    byte[] pointer = [(byte)(0xC0 | (target >> 8)), (byte)target];
                    if (rng.Next(2) == 0)
                    {
                        m = [.. m[..at], .. pointer, .. m[at..]];
                    }
                    else if (at + 1 < m.Length)
                    {
                        pointer.CopyTo(m, at);
                    }
                    else
                    {
                        m = [.. m, .. pointer];
                    }

                    return "pointer";
                }

            case 4:
                {
                    if (m.Length < 12)
                    {
                        m = [.. m, .. new byte[12 - m.Length]];
                    }

                    var field = 4 + (2 * rng.Next(4));
                    var current = BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(field));
                    var value = rng.Next(4) switch
                    {
                        0 => current + 1,
                        1 => Math.Max(0, current - 1),
                        2 => rng.Next(8),
                        _ => rng.Next(65536),
                    };
                    BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(field), (ushort)value);
                    return "count";
                }

            case 5:
                {
                    // Insert, delete or duplicate a few bytes.
                    var at = rng.Next(m.Length);
                    var length = 1 + rng.Next(Math.Min(16, m.Length - at));
                    m = rng.Next(3) switch
                    {
                        0 => [.. m[..at], .. m[(at + length)..]],
                        1 => [.. m[..at], .. m.AsSpan(at, length), .. m[at..]],
                        _ => [.. m[..at], .. RandomBytes(rng, length), .. m[at..]],
                    };
                    return "splice";
                }

            default:
                {
                    // A change to the header flags (TC, RCODE, QR ...): changes the meaning, not the shape.
                    if (m.Length >= 4)
                    {
                        m[2 + rng.Next(2)] = (byte)rng.Next(256);
                        return "flip";
                    }

                    return Mutate(rng, ref m);
                }
        }
    }

    private static readonly byte[] Interesting = [0x00, 0x01, 0x03, 0x04, 0x0C, 0x10, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xFF];

    private static byte[] RandomBytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }

    private static byte[] RandomMessage(Random rng, Sample seed)
    {
        switch (rng.Next(3))
        {
            case 0:
                return RandomBytes(rng, rng.Next(0, 600));
            case 1:
                {
                    // The seed's header and question, then random bytes: reaches the record walk.
                    var reader = new RecordWalk(seed.Message);
                    var questionEnd = DnsName.Skip(seed.Message, reader.QuestionNameOffset) + 4;
                    return [.. seed.Message[..questionEnd], .. RandomBytes(rng, rng.Next(0, 300))];
                }

            default:
                {
                    // Plausible records built from random parts.
                    var w = WireBuilder.Reply(rng.Next(4) == 0 ? 3 : 0).Question(seed.Name, seed.Type);
                    var records = rng.Next(1, 12);
                    for (var i = 0; i < records; i++)
                    {
                        var owner = rng.Next(3) == 0 ? "x" + rng.Next(5) + ".internal" : seed.Name;
                        var section = rng.Next(3);
                        var recordType = (DnsRecordType)(rng.Next(6) switch { 0 => 1, 1 => 28, 2 => 33, 3 => 5, 4 => 6, _ => rng.Next(1, 300) });
                        w.Record(section, owner, recordType, (uint)rng.Next(), x => x.Raw(RandomBytes(rng, rng.Next(0, 40))));
                    }

                    return w.ToArray();
                }
        }
    }

    private static List<Sample> Corpus()
    {
        var samples = new List<Sample>
        {
            new("three.internal", DnsRecordType.A, NamedReplies.ThreeA),
            new("svc.internal", DnsRecordType.SRV, NamedReplies.SvcSrv),
            new("v6.internal", DnsRecordType.AAAA, NamedReplies.V6Aaaa),
            new("alias1.internal", DnsRecordType.A, NamedReplies.Alias1A),
            new("missing.internal", DnsRecordType.A, NamedReplies.MissingNx),
            new("three.internal", DnsRecordType.AAAA, NamedReplies.ThreeNoData),
            new("far.internal", DnsRecordType.SRV, NamedReplies.FarSrv),
            new("eight.internal", DnsRecordType.A, NamedReplies.EightA),
            new("out.internal", DnsRecordType.A, NamedReplies.OutCname),
            new("many.internal", DnsRecordType.A, NamedReplies.ManyTruncated),
            new(
                "a.internal",
                DnsRecordType.A,
                WireBuilder.Reply().Question("a.internal", DnsRecordType.A).Cname("a.internal", "b.internal", 30).Cname("b.internal", "c.internal", 20).A("c.internal", "127.0.0.1", 5).A("c.internal", "127.0.0.2", 6).Soa("internal", 60, 30).ToArray()),
            new(
                "s.internal",
                DnsRecordType.SRV,
                WireBuilder.Reply().Question("s.internal", DnsRecordType.SRV).Srv("s.internal", 1, 1, 80, "t1.s.internal").Srv("s.internal", 2, 5, 81, "t2.s.internal").A("t1.s.internal", "127.0.0.1", section: 2).Aaaa("t2.s.internal", "::1", section: 2).ToArray()),
        };

        foreach (var (_, message) in CapturedReplyTests.AllCaptures())
        {
            var reader = new RecordWalk(message);
            if (message.Length < 1500)
            {
                samples.Add(new(DnsName.Read(message, reader.QuestionNameOffset, out _), reader.QuestionType, message));
            }
        }

        return samples;
    }
}
