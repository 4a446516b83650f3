namespace CloudMapDiscovery.Dns;

/// <summary>One link of a CNAME chain.</summary>
/// <param name="Name">The alias.</param>
/// <param name="Target">The name the alias points to.</param>
/// <param name="Ttl">How long the link may be cached, as sent by the server.</param>
public sealed record DnsCanonicalNameRecord(string Name, string Target, TimeSpan Ttl);
