using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>The records of one zone and how an authoritative server answers from them. All access is under one lock: answers must see a consistent zone while tests change it.</summary>
internal sealed class ZoneData
{
    private const int MaxChainLength = 16;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, NameNode> _nodes = new(StringComparer.Ordinal);
    private uint _serial = 1;
    private TimeSpan _negativeTtl = TimeSpan.FromSeconds(900);
    private bool _includeServiceTargetAddresses = true;
    private int? _maxAnswerRecords;

    public ZoneData(string zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var trimmed = zone.TrimEnd('.');
        DnsNames.Validate(trimmed, nameof(zone));
        Zone = DnsNames.AsciiLower(trimmed);
    }

    public string Zone { get; }

    public TimeSpan NegativeTtl
    {
        get { lock (_gate) { return _negativeTtl; } }
        set { lock (_gate) { _negativeTtl = value; } }
    }

    public bool IncludeServiceTargetAddresses
    {
        get { lock (_gate) { return _includeServiceTargetAddresses; } }
        set { lock (_gate) { _includeServiceTargetAddresses = value; } }
    }

    public int? MaxAnswerRecords
    {
        get { lock (_gate) { return _maxAnswerRecords; } }
        set { lock (_gate) { _maxAnswerRecords = value; } }
    }

    /// <summary>
    /// Makes a name absolute: a trailing dot, or ending in the zone, means absolute; anything else is
    /// relative to the zone. Does not check that the result is inside the zone.
    /// </summary>
    public string Qualify(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "@")
        {
            return Zone;
        }

        var lower = DnsNames.AsciiLower(name);
        if (lower.EndsWith('.'))
        {
            return lower[..^1];
        }

        return DnsNames.IsAtOrBelow(lower, Zone) ? lower : lower + "." + Zone;
    }

    public bool Contains(string absoluteName) => DnsNames.IsAtOrBelow(absoluteName, Zone);

    public void AddAddress(string name, IPAddress address, TimeSpan ttl)
    {
        lock (_gate)
        {
            var node = GetOrAddNode(name);
            node.Canonical = null;
            var index = node.Addresses.FindIndex(a => a.Address.Equals(address));
            if (index >= 0)
            {
                node.Addresses[index] = new AddressEntry(address, ttl);
            }
            else
            {
                node.Addresses.Add(new AddressEntry(address, ttl));
            }

            _serial++;
        }
    }

    public void SetAddresses(string name, TimeSpan ttl, IPAddress[] addresses)
    {
        lock (_gate)
        {
            var node = GetOrAddNode(name);
            node.Canonical = null;
            node.Addresses.Clear();
            foreach (var address in addresses.Distinct())
            {
                node.Addresses.Add(new AddressEntry(address, ttl));
            }

            RemoveIfEmpty(name, node);
            _serial++;
        }
    }

    public bool RemoveAddress(string name, IPAddress address)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(name, out var node) || node.Addresses.RemoveAll(a => a.Address.Equals(address)) == 0)
            {
                return false;
            }

            RemoveIfEmpty(name, node);
            _serial++;
            return true;
        }
    }

    public void AddService(string name, ServiceEntry service)
    {
        lock (_gate)
        {
            var node = GetOrAddNode(name);
            node.Canonical = null;
            var index = node.Services.FindIndex(s => s.Target == service.Target && s.Port == service.Port);
            if (index >= 0)
            {
                node.Services[index] = service;
            }
            else
            {
                node.Services.Add(service);
            }

            _serial++;
        }
    }

    public bool RemoveService(string name, string target)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(name, out var node) || node.Services.RemoveAll(s => s.Target == target) == 0)
            {
                return false;
            }

            RemoveIfEmpty(name, node);
            _serial++;
            return true;
        }
    }

    public void SetCanonicalName(string alias, string target, TimeSpan ttl)
    {
        lock (_gate)
        {
            // RFC 1034 section 3.6.2: a CNAME cannot coexist with other data at its name.
            var node = GetOrAddNode(alias);
            node.Addresses.Clear();
            node.Services.Clear();
            node.Canonical = new CanonicalEntry(target, ttl);
            _serial++;
        }
    }

    public bool RemoveName(string name)
    {
        lock (_gate)
        {
            if (!_nodes.Remove(name))
            {
                return false;
            }

            _serial++;
            return true;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _nodes.Clear();
            _serial++;
        }
    }

    /// <summary>Fills <paramref name="response"/> with the authoritative answer to <paramref name="query"/>.</summary>
    public void Answer(DnsQuery query, DnsResponse response)
    {
        if (!Contains(query.Name) || (query.Class != 1 && query.Class != 255))
        {
            response.ResponseCode = (int)DnsResponseCode.Refused;
            return;
        }

        response.Authoritative = true;
        var type = (DnsRecordType)query.Type;
        lock (_gate)
        {
            var current = query.Name;
            var visited = new HashSet<string>(StringComparer.Ordinal) { current };
            while (type != DnsRecordType.CNAME
                && response.Answers.Count < MaxChainLength
                && _nodes.TryGetValue(current, out var alias)
                && alias.Canonical is { } link)
            {
                response.Answers.Add(new CanonicalNameRecord(current, ResourceRecord.Seconds(link.Ttl), link.Target));

                // Like BIND: follow the chain while it stays in the zone; outside, the client's resolver takes over.
                if (!Contains(link.Target) || !visited.Add(link.Target))
                {
                    return;
                }

                current = link.Target;
            }

            var before = response.Answers.Count;
            _nodes.TryGetValue(current, out var node);
            switch (type)
            {
                case DnsRecordType.A:
                case DnsRecordType.AAAA:
                    var family = type == DnsRecordType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                    foreach (var entry in Limit(node?.Addresses.Where(a => a.Address.AddressFamily == family).ToList() ?? []))
                    {
                        response.Answers.Add(new AddressRecord(current, ResourceRecord.Seconds(entry.Ttl), entry.Address));
                    }

                    break;
                case DnsRecordType.SRV:
                    var targets = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var service in Limit(node?.Services ?? []))
                    {
                        response.Answers.Add(new ServiceRecord(current, ResourceRecord.Seconds(service.Ttl), service.Priority, service.Weight, service.Port, service.Target));
                        if (_includeServiceTargetAddresses && targets.Add(service.Target) && _nodes.TryGetValue(service.Target, out var targetNode))
                        {
                            foreach (var entry in targetNode.Addresses)
                            {
                                response.Additional.Add(new AddressRecord(service.Target, ResourceRecord.Seconds(entry.Ttl), entry.Address));
                            }
                        }
                    }

                    break;
                case DnsRecordType.CNAME when node?.Canonical is { } canonical:
                    response.Answers.Add(new CanonicalNameRecord(current, ResourceRecord.Seconds(canonical.Ttl), canonical.Target));
                    break;
                case DnsRecordType.SOA when current == Zone:
                    response.Answers.Add(CreateSoa());
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
            if (!Exists(current))
            {
                response.ResponseCode = (int)DnsResponseCode.NXDomain;
            }

            response.Authority.Add(CreateSoa());
        }
    }

    /// <summary>Lists the zone in master-file format, for logs and test failure messages.</summary>
    public string Export()
    {
        lock (_gate)
        {
            var records = new List<ResourceRecord> { CreateSoa() };
            foreach (var (name, node) in _nodes.OrderBy(n => n.Key, StringComparer.Ordinal))
            {
                if (node.Canonical is { } link)
                {
                    records.Add(new CanonicalNameRecord(name, ResourceRecord.Seconds(link.Ttl), link.Target));
                }

                records.AddRange(node.Addresses.Select(a => new AddressRecord(name, ResourceRecord.Seconds(a.Ttl), a.Address)));
                records.AddRange(node.Services.Select(s => new ServiceRecord(name, ResourceRecord.Seconds(s.Ttl), s.Priority, s.Weight, s.Port, s.Target)));
            }

            var builder = new StringBuilder();
            foreach (var record in records)
            {
                builder.Append(CultureInfo.InvariantCulture, $"{record.Name}.\t{record.Ttl}\tIN\t{record.Type}\t{record.DataText}").Append('\n');
            }

            return builder.ToString();
        }
    }

    private StartOfAuthorityRecord CreateSoa()
    {
        var seconds = ResourceRecord.Seconds(_negativeTtl);
        return new StartOfAuthorityRecord(Zone, seconds, _serial, seconds);
    }

    private bool Exists(string name)
    {
        if (name == Zone || _nodes.ContainsKey(name))
        {
            return true;
        }

        foreach (var key in _nodes.Keys)
        {
            if (DnsNames.IsAtOrBelow(key, name))
            {
                return true;
            }
        }

        return false;
    }

    // Route 53 MULTIVALUE answers with at most eight records, a random subset when more exist.
    private List<T> Limit<T>(List<T> records)
    {
        if (_maxAnswerRecords is not { } max || records.Count <= max)
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

    private NameNode GetOrAddNode(string name)
    {
        if (!_nodes.TryGetValue(name, out var node))
        {
            node = new NameNode();
            _nodes.Add(name, node);
        }

        return node;
    }

    private void RemoveIfEmpty(string name, NameNode node)
    {
        if (node.Addresses.Count == 0 && node.Services.Count == 0 && node.Canonical is null)
        {
            _nodes.Remove(name);
        }
    }

    private sealed class NameNode
    {
        public List<AddressEntry> Addresses { get; } = [];

        public List<ServiceEntry> Services { get; } = [];

        public CanonicalEntry? Canonical { get; set; }
    }

    private sealed record AddressEntry(IPAddress Address, TimeSpan Ttl);

    private sealed record CanonicalEntry(string Target, TimeSpan Ttl);
}

/// <summary>One SRV record as stored.</summary>
internal sealed record ServiceEntry(ushort Priority, ushort Weight, ushort Port, string Target, TimeSpan Ttl);
