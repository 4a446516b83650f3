namespace CloudMapDiscovery.Dns;

/// <summary>Settings of <see cref="DnsResolver"/>.</summary>
/// <remarks>
/// When <see cref="NameServers"/> is empty, the name servers and anything else left unset come from
/// <c>/etc/resolv.conf</c> (<c>nameserver</c>, <c>search</c>, <c>options ndots: timeout: attempts: rotate</c>); when
/// name servers are given, resolv.conf is not read at all. Then the defaults documented on each property apply.
/// </remarks>
public sealed class DnsResolverOptions
{
    /// <summary>
    /// Gets the name servers to ask, as <c>ip</c> or <c>ip:port</c> (dotted-quad IPv4; IPv6 as <c>[ip]:port</c> or a
    /// bare address; inet_aton shorthands such as <c>5353</c> or <c>127.1</c> are refused).
    /// </summary>
    /// <remarks>Empty (the default) means the <c>nameserver</c> lines of <see cref="ResolvConfPath"/>.</remarks>
    public IList<string> NameServers { get; } = new List<string>();

    /// <summary>Gets or sets how long to wait for each reply.</summary>
    /// <remarks>
    /// Default: resolv.conf's <c>timeout</c>, else 2 seconds: the VPC resolver answers in about a millisecond, and a
    /// lost datagram (it drops past 1,024 packets per second) should cost a retry, not glibc's 5 seconds.
    /// </remarks>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// Gets or sets how many times each server is tried; default: resolv.conf's <c>attempts</c>, else 2.
    /// </summary>
    public int? Attempts { get; set; }

    /// <summary>
    /// Gets or sets whether to start each query at the next server in turn; default: resolv.conf's <c>rotate</c>, else
    /// off.
    /// </summary>
    public bool? Rotate { get; set; }

    /// <summary>Gets the search domains appended to names with fewer dots than <see cref="Ndots"/>.</summary>
    /// <remarks>Empty (the default) means resolv.conf's <c>search</c> (or <c>domain</c>) line.</remarks>
    public IList<string> SearchDomains { get; } = new List<string>();

    /// <summary>
    /// Gets or sets the dot threshold: a name with at least this many dots is asked as is, a shorter one through the
    /// search domains first.
    /// </summary>
    /// <remarks>Default: resolv.conf's <c>ndots</c>, else 1, so <c>name.internal</c> is one query.</remarks>
    public int? Ndots { get; set; }

    /// <summary>Gets or sets the UDP payload size advertised with EDNS(0).</summary>
    /// <remarks>
    /// Default 1232 bytes, the DNS Flag Day 2020 value that avoids IP fragmentation; a larger answer comes back
    /// truncated and is asked again over TCP.
    /// </remarks>
    public int UdpPayloadSize { get; set; } = 1232;

    /// <summary>Gets or sets how many CNAME links to follow before giving up; default 8.</summary>
    public int MaxCnameChain { get; set; } = 8;

    /// <summary>
    /// Gets or sets the resolv.conf file read when settings are left unset; default <c>/etc/resolv.conf</c>.
    /// </summary>
    public string ResolvConfPath { get; set; } = "/etc/resolv.conf";
}
