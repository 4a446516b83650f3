namespace CloudMapDiscovery.Dns;

/// <summary>An SRV record (RFC 2782) with the addresses of its target.</summary>
/// <remarks>
/// Cloud Map publishes <c>1 1 &lt;port&gt; &lt;instance-id&gt;.&lt;service&gt;.&lt;namespace&gt;</c> and an A/AAAA
/// record for the target.
/// </remarks>
/// <param name="Name">The owner name of the record.</param>
/// <param name="Priority">Lower is preferred.</param>
/// <param name="Weight">Relative weight among records of equal priority.</param>
/// <param name="Port">The port the service listens on (with ECS bridge/host networking, the host port).</param>
/// <param name="Target">The host name of the instance.</param>
/// <param name="Ttl">How long the record may be cached, as sent by the server.</param>
/// <param name="Addresses">The target's addresses, from the additional section or a follow-up query; empty when the target has none.</param>
public sealed record DnsServiceRecord(
    string Name,
    ushort Priority,
    ushort Weight,
    ushort Port,
    string Target,
    TimeSpan Ttl,
    IReadOnlyList<DnsAddressRecord> Addresses)
{
    /// <summary>Gets why the target's addresses are unknown, or <see langword="null"/> when <see cref="Addresses"/> is an answer.</summary>
    /// <remarks>
    /// Set when the reply left the target's addresses out and asking for them failed (A and AAAA both, or one failed
    /// and the other found none), or was not tried because more than 64 targets lacked addresses: <see cref="Addresses"/>
    /// is then empty for want of an answer, not because the target has none. <see langword="null"/> when the addresses
    /// came from the reply or from a successful lookup (an empty list then means the target has none), and for the
    /// target "." (RFC 2782: the service is decidedly not available).
    /// </remarks>
    public string? TargetError { get; init; }
}
