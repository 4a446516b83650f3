using System.Globalization;
using System.Net;
using System.Text;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>
/// The records of one zone, changed by tests while the server answers from them (see
/// <see cref="AuthoritativeAnswer"/>).
/// </summary>
/// <remarks>All access is under one lock: an answer must see a consistent zone.</remarks>
internal sealed class ZoneData
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NameNode> _nodes = new(StringComparer.Ordinal);
    private uint _serial = 1;
    private TimeSpan _negativeTtl = TimeSpan.FromSeconds(900);
    private bool _includeServiceTargetAddresses = true;
    private int? _maxAnswerRecords;

    public ZoneData(string zone) => Name = new ZoneName(zone);

    /// <summary>The zone's name, and how names given to the server are read against it.</summary>
    public ZoneName Name { get; }

    public string Zone => Name.Value;

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

    /// <summary>Fills <paramref name="response"/> with the authoritative answer to <paramref name="query"/>, from the zone as it is now.</summary>
    public void Answer(DnsQuery query, DnsResponse response)
    {
        lock (_gate)
        {
            AuthoritativeAnswer.Fill(new ZoneView(Name, _nodes, CreateSoa(), _includeServiceTargetAddresses, _maxAnswerRecords), query, response);
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
                records.AddRange(node.Records(name));
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
        if (node.IsEmpty)
        {
            _nodes.Remove(name);
        }
    }
}
