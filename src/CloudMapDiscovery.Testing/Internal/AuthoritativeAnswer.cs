using System.Net.Sockets;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>What the answer is read from: the zone as it stands under its lock.</summary>
internal readonly record struct ZoneView(
    ZoneName Name, IReadOnlyDictionary<string, NameNode> Nodes, StartOfAuthorityRecord Soa, bool IncludeServiceTargetAddresses, int? MaxAnswerRecords);

/// <summary>
/// How an authoritative server for the zone answers a question, as Route 53 does for a Cloud Map namespace: AA,
/// in-zone CNAME chains followed, SRV targets' addresses in the additional section, NXDOMAIN or NODATA with the SOA,
/// REFUSED outside the zone.
/// </summary>
internal static class AuthoritativeAnswer
{
    private const int MaxChainLength = 16;

    public static void Fill(ZoneView zone, DnsQuery query, DnsResponse response)
    {
        if (!zone.Name.Contains(query.Name) || (query.Class != 1 && query.Class != 255))
        {
            response.ResponseCode = (int)DnsResponseCode.Refused;
            return;
        }

        response.Authoritative = true;
        var type = (DnsRecordType)query.Type;
        var current = FollowChain(zone, query.Name, type, response, out var chainLeftZone);
        if (chainLeftZone)
        {
            return;
        }

        var before = response.Answers.Count;
        zone.Nodes.TryGetValue(current, out var node);
        switch (type)
        {
            case DnsRecordType.A:
            case DnsRecordType.AAAA:
                var family = type == DnsRecordType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                foreach (var entry in Limit(zone, node?.Addresses.Where(a => a.Address.AddressFamily == family).ToList() ?? []))
                {
                    response.Answers.Add(new AddressRecord(current, ResourceRecord.Seconds(entry.Ttl), entry.Address));
                }

                break;
            case DnsRecordType.SRV:
                AddServices(zone, current, node, response);
                break;
            case DnsRecordType.CNAME when node?.Canonical is { } canonical:
                response.Answers.Add(new CanonicalNameRecord(current, ResourceRecord.Seconds(canonical.Ttl), canonical.Target));
                break;
            case DnsRecordType.SOA when current == zone.Name.Value:
                response.Answers.Add(zone.Soa);
                break;
            default:
                break;
        }

        if (response.Answers.Count > before)
        {
            return;
        }

        // RFC 2308: negative answers carry the SOA, whose TTL and MINIMUM bound negative caching.
        // RFC 8020: a name with records below it exists (an empty non-terminal) and gets NODATA.
        if (!Exists(zone, current))
        {
            response.ResponseCode = (int)DnsResponseCode.NXDomain;
        }

        response.Authority.Add(zone.Soa);
    }

    // Adds the CNAME records from the question's name along the chain; returns the name it ends at. Like BIND, it is
    // followed while it stays in the zone: outside (or at a loop), the answer stops and the client's resolver goes on.
    private static string FollowChain(ZoneView zone, string name, DnsRecordType type, DnsResponse response, out bool chainLeftZone)
    {
        chainLeftZone = false;
        var current = name;
        var visited = new HashSet<string>(StringComparer.Ordinal) { current };
        while (type != DnsRecordType.CNAME
            && response.Answers.Count < MaxChainLength
            && zone.Nodes.TryGetValue(current, out var alias)
            && alias.Canonical is { } link)
        {
            response.Answers.Add(new CanonicalNameRecord(current, ResourceRecord.Seconds(link.Ttl), link.Target));
            if (!zone.Name.Contains(link.Target) || !visited.Add(link.Target))
            {
                chainLeftZone = true;
                return current;
            }

            current = link.Target;
        }

        return current;
    }

    private static void AddServices(ZoneView zone, string name, NameNode? node, DnsResponse response)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in Limit(zone, node?.Services ?? []))
        {
            response.Answers.Add(new ServiceRecord(name, ResourceRecord.Seconds(service.Ttl), service.Priority, service.Weight, service.Port, service.Target));
            if (zone.IncludeServiceTargetAddresses && targets.Add(service.Target) && zone.Nodes.TryGetValue(service.Target, out var targetNode))
            {
                foreach (var entry in targetNode.Addresses)
                {
                    response.Additional.Add(new AddressRecord(service.Target, ResourceRecord.Seconds(entry.Ttl), entry.Address));
                }
            }
        }
    }

    private static bool Exists(ZoneView zone, string name)
    {
        if (name == zone.Name.Value || zone.Nodes.ContainsKey(name))
        {
            return true;
        }

        foreach (var key in zone.Nodes.Keys)
        {
            if (DnsNames.IsAtOrBelow(key, name))
            {
                return true;
            }
        }

        return false;
    }

    // Route 53 MULTIVALUE answers with at most eight records, a random subset when more exist.
    private static List<T> Limit<T>(ZoneView zone, List<T> records)
    {
        if (zone.MaxAnswerRecords is not { } max || records.Count <= max)
        {
            return records;
        }

        var copy = records.ToList();
        for (var i = 0; i < max; i++)
        {
            var j = Random.Shared.Next(i, copy.Count);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }

        copy.RemoveRange(max, copy.Count - max);
        return copy;
    }
}
