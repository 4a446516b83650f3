using System.Globalization;
using System.Text;
using static System.FormattableString;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// The records <see cref="BindServer"/> serves at start-up, shaped like an AWS Cloud Map private DNS
/// namespace called <c>internal</c>. Tests assert against these constants rather than repeating literals.
/// Every address is a loopback or documentation address: they are record data, never dialled.
/// </summary>
public static class BindZone
{
    /// <summary>The Cloud Map style namespace (zone apex).</summary>
    public const string Zone = "internal";

    /// <summary>A second zone on the same server, used for an SRV target that BIND does not put in the additional section.</summary>
    public const string OtherZone = "elsewhere";

    /// <summary>
    /// SOA TTL and MINIMUM (the negative-caching TTL) of both zones: 900 s, the Cloud Map default.
    /// BIND sends the SOA of a negative answer with TTL = min(SOA TTL, MINIMUM), so both are 900.
    /// </summary>
    public const int NegativeTtlSeconds = 900;

    /// <summary>The SOA serial at start-up (every nsupdate increments it).</summary>
    public const int InitialSerial = 1;

    /// <summary><c>three.internal</c>: three A records, TTL 10 s (the Copilot TTL).</summary>
    public const string Three = "three.internal";

    /// <summary>TTL of <see cref="Three"/>.</summary>
    public const int ThreeTtl = 10;

    /// <summary>The addresses of <see cref="Three"/>, in zone-file order (which is the order BIND sends, see rrset-order).</summary>
    public static readonly IReadOnlyList<string> ThreeAddresses = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

    /// <summary><c>many.internal</c>: 150 A records, too many for a 1232-byte UDP reply, so the answer is truncated and must be asked over TCP.</summary>
    public const string Many = "many.internal";

    /// <summary>TTL of <see cref="Many"/>.</summary>
    public const int ManyTtl = 60;

    /// <summary>The addresses of <see cref="Many"/>: 127.0.1.1 to 127.0.1.150.</summary>
    public static readonly IReadOnlyList<string> ManyAddresses =
        [.. Enumerable.Range(1, 150).Select(i => string.Create(CultureInfo.InvariantCulture, $"127.0.1.{i}"))];

    /// <summary><c>v6.internal</c>: three AAAA records.</summary>
    public const string V6 = "v6.internal";

    /// <summary>TTL of <see cref="V6"/>.</summary>
    public const int V6Ttl = 60;

    /// <summary>The addresses of <see cref="V6"/>.</summary>
    public static readonly IReadOnlyList<string> V6Addresses = ["::1", "fd00::1", "fd00::2"];

    /// <summary><c>both.internal</c>: one A and one AAAA record (a Cloud Map A+AAAA service), TTL 60 s.</summary>
    public const string Both = "both.internal";

    /// <summary>The A record of <see cref="Both"/>.</summary>
    public const string BothV4 = "127.0.0.8";

    /// <summary>The AAAA record of <see cref="Both"/>.</summary>
    public const string BothV6 = "::1";

    /// <summary>
    /// <c>svc.internal</c>: two Cloud Map style SRV records, <c>1 1 3000 task-a.svc.internal.</c> and
    /// <c>1 1 3001 task-b.svc.internal.</c>, TTL 10 s. The targets have A records in the same zone, so BIND
    /// puts them in the additional section.
    /// </summary>
    public const string Svc = "svc.internal";

    /// <summary>TTL of the SRV records and of the targets' A records.</summary>
    public const int SvcTtl = 10;

    /// <summary>The SRV records of <see cref="Svc"/>: target, port and the target's A record.</summary>
    public static readonly IReadOnlyList<(string Target, ushort Port, string Address)> SvcRecords =
    [
        ("task-a.svc.internal", 3000, "127.0.0.11"),
        ("task-b.svc.internal", 3001, "127.0.0.12"),
    ];

    /// <summary>
    /// <c>far.internal</c>: one SRV record <c>1 1 4000 host.elsewhere.</c> whose target lives in another zone.
    /// BIND does not add out-of-zone targets to the additional section, so a resolver must ask for the target itself.
    /// </summary>
    public const string Far = "far.internal";

    /// <summary>The SRV target of <see cref="Far"/>.</summary>
    public const string FarTarget = "host.elsewhere";

    /// <summary>The SRV port of <see cref="Far"/>.</summary>
    public const ushort FarPort = 4000;

    /// <summary>The A record of <see cref="FarTarget"/>.</summary>
    public const string FarAddress = "127.0.0.21";

    /// <summary><c>alias1.internal</c> CNAME <c>alias2.internal</c> (TTL 30) CNAME <c>three.internal</c> (TTL 20).</summary>
    public const string Alias1 = "alias1.internal";

    /// <summary>The middle link of the chain.</summary>
    public const string Alias2 = "alias2.internal";

    /// <summary>TTL of the CNAME at <see cref="Alias1"/>.</summary>
    public const int Alias1Ttl = 30;

    /// <summary>TTL of the CNAME at <see cref="Alias2"/>.</summary>
    public const int Alias2Ttl = 20;

    /// <summary><c>ttl0.internal</c>: one A record with TTL 0 (the AWS Fargate sample's TTL).</summary>
    public const string Ttl0 = "ttl0.internal";

    /// <summary>The address of <see cref="Ttl0"/>.</summary>
    public const string Ttl0Address = "127.0.0.5";

    /// <summary><c>name.internal</c>: the AWS sample's service, two A records with TTL 0.</summary>
    public const string NameService = "name.internal";

    /// <summary>The addresses of <see cref="NameService"/>.</summary>
    public static readonly IReadOnlyList<string> NameServiceAddresses = ["127.0.0.6", "127.0.0.7"];

    /// <summary>A name that does not exist in the zone (NXDOMAIN).</summary>
    public const string Missing = "missing.internal";

    /// <summary>Builds the zone file of <see cref="Zone"/>.</summary>
    /// <returns>The zone file text.</returns>
    public static string InternalZoneFile()
    {
        var z = new StringBuilder();
        Line(z, "$ORIGIN internal.");
        Line(z, "$TTL 60");
        Line(z, Invariant($"@ {NegativeTtlSeconds} IN SOA ns1.internal. hostmaster.internal. {InitialSerial} 7200 900 1209600 {NegativeTtlSeconds}"));
        Line(z, Invariant($"@ {NegativeTtlSeconds} IN NS ns1.internal."));
        Line(z, "ns1 60 IN A 127.0.0.1");
        foreach (var a in ThreeAddresses)
        {
            Line(z, Invariant($"three {ThreeTtl} IN A {a}"));
        }

        foreach (var a in ManyAddresses)
        {
            Line(z, Invariant($"many {ManyTtl} IN A {a}"));
        }

        foreach (var a in V6Addresses)
        {
            Line(z, Invariant($"v6 {V6Ttl} IN AAAA {a}"));
        }

        Line(z, Invariant($"both 60 IN A {BothV4}"));
        Line(z, Invariant($"both 60 IN AAAA {BothV6}"));
        foreach (var (target, port, address) in SvcRecords)
        {
            Line(z, Invariant($"svc {SvcTtl} IN SRV 1 1 {port} {target}."));
            Line(z, Invariant($"{target}. {SvcTtl} IN A {address}"));
        }

        Line(z, Invariant($"far 10 IN SRV 1 1 {FarPort} {FarTarget}."));
        Line(z, Invariant($"alias1 {Alias1Ttl} IN CNAME {Alias2}."));
        Line(z, Invariant($"alias2 {Alias2Ttl} IN CNAME {Three}."));
        Line(z, Invariant($"ttl0 0 IN A {Ttl0Address}"));
        foreach (var a in NameServiceAddresses)
        {
            Line(z, Invariant($"name 0 IN A {a}"));
        }

        return z.ToString();
    }

    /// <summary>Builds the zone file of <see cref="OtherZone"/>.</summary>
    /// <returns>The zone file text.</returns>
    public static string OtherZoneFile()
    {
        var z = new StringBuilder();
        Line(z, "$ORIGIN elsewhere.");
        Line(z, "$TTL 60");
        Line(z, Invariant($"@ {NegativeTtlSeconds} IN SOA ns1.internal. hostmaster.internal. {InitialSerial} 7200 900 1209600 {NegativeTtlSeconds}"));
        Line(z, Invariant($"@ {NegativeTtlSeconds} IN NS ns1.internal."));
        Line(z, Invariant($"host 10 IN A {FarAddress}"));
        return z.ToString();
    }

    private static void Line(StringBuilder z, string line) => z.Append(line).Append('\n');
}
