namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Where one resource record sits in a message; nothing is copied out of the message until asked for.</summary>
internal readonly record struct DnsRecordHeader(
    DnsSection Section,
    int NameOffset,
    DnsRecordType Type,
    ushort Class,
    uint Ttl,
    int DataOffset,
    int DataLength)
{
    public TimeSpan TimeToLive => TimeSpan.FromSeconds(Ttl);
}

/// <summary>The three record sections of a message.</summary>
internal enum DnsSection
{
    Answer,
    Authority,
    Additional,
}
