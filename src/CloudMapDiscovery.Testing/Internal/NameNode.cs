using System.Net;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>The records at one name of the test zone.</summary>
/// <remarks>Not thread-safe: the zone's lock guards it.</remarks>
internal sealed class NameNode
{
    public List<AddressEntry> Addresses { get; } = [];

    public List<ServiceEntry> Services { get; } = [];

    public CanonicalEntry? Canonical { get; set; }

    public bool IsEmpty => Addresses.Count == 0 && Services.Count == 0 && Canonical is null;

    /// <summary>The node's records as they go on the wire, owned by <paramref name="name"/>.</summary>
    public IEnumerable<ResourceRecord> Records(string name)
    {
        if (Canonical is { } link)
        {
            yield return new CanonicalNameRecord(name, ResourceRecord.Seconds(link.Ttl), link.Target);
        }

        foreach (var a in Addresses)
        {
            yield return new AddressRecord(name, ResourceRecord.Seconds(a.Ttl), a.Address);
        }

        foreach (var s in Services)
        {
            yield return new ServiceRecord(name, ResourceRecord.Seconds(s.Ttl), s.Priority, s.Weight, s.Port, s.Target);
        }
    }
}

/// <summary>One A or AAAA record as stored.</summary>
internal sealed record AddressEntry(IPAddress Address, TimeSpan Ttl);

/// <summary>A CNAME as stored.</summary>
internal sealed record CanonicalEntry(string Target, TimeSpan Ttl);

/// <summary>One SRV record as stored.</summary>
internal sealed record ServiceEntry(ushort Priority, ushort Weight, ushort Port, string Target, TimeSpan Ttl);
