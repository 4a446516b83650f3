using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.TestData;

/// <summary>
/// The <c>*.hex</c> captures in TestData are real BIND replies. This test asks a private, freshly seeded
/// named the same questions with the same query bytes and checks that the replies are still byte for byte
/// what is committed, so the files cannot drift from what BIND really sends.
/// To (re)capture, run it with <c>CLOUDMAP_CAPTURE_WIRE</c> set to the TestData folder (see README.md there).
/// </summary>
public sealed class WireCaptureTests
{
    /// <summary>Environment variable: when set to a folder, the test writes the captures there instead of comparing.</summary>
    public const string CaptureVariable = "CLOUDMAP_CAPTURE_WIRE";

    /// <summary>The captured exchanges: file base name, query ID, question, EDNS payload (null: no OPT), transport.</summary>
    public static readonly IReadOnlyList<WireCapture> Captures =
    [
        new("three-a", 0xA001, BindZone.Three, 1, 1232, Tcp: false, "A three.internal: three A records, TTL 10"),
        new("three-a-noedns", 0xA002, BindZone.Three, 1, null, Tcp: false, "A three.internal without EDNS (no OPT in the query, so none in the reply)"),
        new("svc-srv", 0xA003, BindZone.Svc, 33, 1232, Tcp: false, "SRV svc.internal: two SRV records, targets' A records in the additional section"),
        new("far-srv", 0xA004, BindZone.Far, 33, 1232, Tcp: false, "SRV far.internal: target host.elsewhere. is in another zone, so no additional A record"),
        new("v6-aaaa", 0xA005, BindZone.V6, 28, 1232, Tcp: false, "AAAA v6.internal: three AAAA records (::1, fd00::1, fd00::2)"),
        new("alias1-a", 0xA006, BindZone.Alias1, 1, 1232, Tcp: false, "A alias1.internal: CNAME alias2.internal (TTL 30), CNAME three.internal (TTL 20), three A records"),
        new("missing-a-nxdomain", 0xA007, BindZone.Missing, 1, 1232, Tcp: false, "A missing.internal: NXDOMAIN, SOA (TTL 900, MINIMUM 900) in the authority section"),
        new("three-aaaa-nodata", 0xA008, BindZone.Three, 28, 1232, Tcp: false, "AAAA three.internal: NOERROR, no answer (NODATA), SOA in the authority section"),
        new("many-a-udp", 0xA009, BindZone.Many, 1, 1232, Tcp: false, "A many.internal over UDP with EDNS 1232: 150 records do not fit, TC set"),
        new("many-a-tcp", 0xA009, BindZone.Many, 1, 1232, Tcp: true, "A many.internal over TCP (same query bytes): all 150 records; file holds the message without the 2-byte TCP length prefix"),
        new("many-a-noedns-udp", 0xA00A, BindZone.Many, 1, null, Tcp: false, "A many.internal over UDP without EDNS (512-byte limit): TC set"),
        new("ttl0-a", 0xA00B, BindZone.Ttl0, 1, 1232, Tcp: false, "A ttl0.internal: one A record with TTL 0"),
    ];

    [Fact]
    public async Task Committed_captures_are_what_bind_sends()
    {
        BindServer.SkipIfUnavailable();
        var outputDir = Environment.GetEnvironmentVariable(CaptureVariable);
        await using var bind = await BindServer.StartAsync(TestContext.Current.CancellationToken);
        var version = (await RunNamedVersionAsync()).Trim();

        foreach (var c in Captures)
        {
            var query = RawDns.Query(c.Id, c.Name, c.Type, c.EdnsPayloadSize);
            var reply = c.Tcp
                ? await RawDns.TcpExchangeAsync(bind.EndPoint, query, TimeSpan.FromSeconds(5))
                : await RawDns.UdpExchangeAsync(bind.EndPoint, query, TimeSpan.FromSeconds(5));
            CheckShape(c, reply);

            if (!string.IsNullOrEmpty(outputDir))
            {
                var how = $"captured from {version} (BindServer fixture, zone of BindZone.cs) by WireCaptureTests";
                await File.WriteAllTextAsync(Path.Combine(outputDir, c.File + ".query.hex"), WireData.ToHex(query, $"query: {c.Description}", $"id 0x{c.Id:x4}, RD set, {(c.EdnsPayloadSize is { } p ? $"EDNS(0) payload {p}" : "no EDNS")}"), TestContext.Current.CancellationToken);
                await File.WriteAllTextAsync(Path.Combine(outputDir, c.File + ".reply.hex"), WireData.ToHex(reply, $"reply ({(c.Tcp ? "TCP" : "UDP")}): {c.Description}", how), TestContext.Current.CancellationToken);
                continue;
            }

            WireData.Load(c.File + ".query.hex").Should().Equal(query, $"{c.File}.query.hex is the query this test sends");
            WireData.Load(c.File + ".reply.hex").Should().Equal(
                reply,
                $"{c.File}.reply.hex should be what named ({version}) sends today; if BIND changed its encoding, re-capture (TestData/README.md)");
        }
    }

    private static void CheckShape(WireCapture c, byte[] reply)
    {
        RawDns.Id(reply).Should().Be(c.Id, c.File);
        RawDns.IsResponse(reply).Should().BeTrue(c.File);
        RawDns.IsAuthoritative(reply).Should().BeTrue(c.File);
        var (qd, an, ns, ar) = RawDns.Counts(reply);
        qd.Should().Be(1, c.File);
        var opt = c.EdnsPayloadSize is null ? 0 : 1;
        switch (c.File)
        {
            case "three-a" or "three-a-noedns":
                (an, ar).Should().Be((3, opt), c.File);
                break;
            case "svc-srv":
                (an, ar).Should().Be((2, 2 + opt), c.File);
                break;
            case "far-srv":
                (an, ar).Should().Be((1, opt), c.File);
                break;
            case "alias1-a":
                an.Should().Be(5, c.File);
                break;
            case "missing-a-nxdomain":
                RawDns.ResponseCode(reply).Should().Be(3, c.File);
                (an, ns).Should().Be((0, 1), c.File);
                break;
            case "three-aaaa-nodata":
                RawDns.ResponseCode(reply).Should().Be(0, c.File);
                (an, ns).Should().Be((0, 1), c.File);
                break;
            case "many-a-udp":
                // With EDNS, BIND 9.18 drops the whole RRset: TC and no answers.
                RawDns.IsTruncated(reply).Should().BeTrue(c.File);
                (an, ar).Should().Be((0, 1), c.File);
                reply.Length.Should().BeLessThanOrEqualTo(1232, c.File);
                break;
            case "many-a-noedns-udp":
                // Without EDNS, BIND fills 512 bytes with part of the RRset and sets TC.
                RawDns.IsTruncated(reply).Should().BeTrue(c.File);
                an.Should().Be(30, c.File);
                reply.Length.Should().BeLessThanOrEqualTo(512, c.File);
                break;
            case "many-a-tcp":
                RawDns.IsTruncated(reply).Should().BeFalse(c.File);
                an.Should().Be(150, c.File);
                break;
            default:
                an.Should().BeGreaterThan(0, c.File);
                break;
        }
    }

    private static async Task<string> RunNamedVersionAsync()
    {
        var psi = new System.Diagnostics.ProcessStartInfo(BindServer.NamedPath!, "-v")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        // "BIND 9.18.49-1~deb12u3-Debian (Extended Support Version) <id:>" -> "BIND 9.18.49-1~deb12u3-Debian"
        var parts = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 ? $"{parts[0]} {parts[1]}" : output;
    }
}

/// <summary>One captured exchange.</summary>
/// <param name="File">Base name of the .query.hex / .reply.hex pair.</param>
/// <param name="Id">The query ID.</param>
/// <param name="Name">The question name.</param>
/// <param name="Type">The question type code.</param>
/// <param name="EdnsPayloadSize">The advertised EDNS(0) UDP payload size, or null for a query without OPT.</param>
/// <param name="Tcp">Whether the exchange used TCP.</param>
/// <param name="Description">What the reply shows.</param>
public sealed record WireCapture(string File, ushort Id, string Name, ushort Type, int? EdnsPayloadSize, bool Tcp, string Description);
