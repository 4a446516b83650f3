using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Turns a reply into the records that answer one question: validates every record in one pass, follows the
/// CNAME chain inside the answer section, collects records of the asked type at its end (at most
/// <see cref="DnsLimits.MaxRecords"/>), attaches SRV targets' addresses from the reply, and reads the negative TTL
/// from an SOA. Work is linear in the reply's size, whatever its content; allocation is the result alone.
/// </summary>
internal static class DnsResponseParser
{
    // Up to this many records a parse keeps its index on the stack: every ordinary reply. The name tables come from
    // the pool whatever the size: stack memory would be zeroed in full, where only part of a table needs it.
    private const int StackEntries = 32;

    public static DnsResponse Parse(ReadOnlySpan<byte> message, string name, DnsRecordType type, int maxCnameChain, CancellationToken cancellationToken = default)
    {
        var header = DnsHeader.Read(message);
        var capacity = ReplyIndex.Capacity(message, header);
        var tableSize = NameTable.Size(message.Length);
        var ints = tableSize + (2 * capacity) + (type == DnsRecordType.SRV ? NameTable.MaxIds(message.Length) : 0);
        var rentedInts = ArrayPool<int>.Shared.Rent(ints);
        DnsRecordHeader[]? rentedEntries = null;
        var storage = rentedInts.AsSpan(0, ints);
        var entries = capacity <= StackEntries ? stackalloc DnsRecordHeader[capacity] : (rentedEntries = ArrayPool<DnsRecordHeader>.Shared.Rent(capacity));
        try
        {
            scoped var names = new NameTable(message, storage[..tableSize]);
            var rest = storage[tableSize..];
            var index = ReplyIndex.Build(message, ref names, type, entries, rest[..capacity], rest.Slice(capacity, capacity), cancellationToken);
            var targetOf = type == DnsRecordType.SRV ? rest.Slice(2 * capacity, NameTable.MaxIds(message.Length)) : default;
            return Interpret(message, in names, in index, header, name, type, maxCnameChain, targetOf);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rentedInts);

            if (rentedEntries is not null)
            {
                ArrayPool<DnsRecordHeader>.Shared.Return(rentedEntries);
            }
        }
    }

    private static DnsResponse Interpret(
        ReadOnlySpan<byte> message, in NameTable names, in ReplyIndex index, DnsHeader header, string name, DnsRecordType type, int maxCnameChain, Span<int> scratch)
    {
        var cnames = new List<DnsCanonicalNameRecord>();
        var current = name;
        var nameId = names.Find(name);
        var currentId = nameId;
        if (index.HasCanonicalNames && currentId != NameTable.None)
        {
            Span<int> visited = stackalloc int[Math.Max(maxCnameChain, 0) + 1];
            visited[0] = nameId;
            while (!HasAnswer(in index, currentId, type) && TryFindLink(in index, currentId, out var link))
            {
                if (cnames.Count >= maxCnameChain)
                {
                    throw new DnsFormatException($"the CNAME chain from {name} is longer than {maxCnameChain} links");
                }

                var targetId = index.DataId(link);
                var target = names.Text(index[link].DataOffset);
                if (visited[..(cnames.Count + 1)].Contains(targetId))
                {
                    throw new DnsFormatException($"the CNAME chain from {name} loops back to {target}");
                }

                cnames.Add(new DnsCanonicalNameRecord(current, target, index[link].TimeToLive));
                visited[cnames.Count] = targetId;
                current = target;
                currentId = targetId;
            }
        }

        var limited = false;
        var addresses = type == DnsRecordType.SRV ? [] : Addresses(message, in index, current, currentId, type, out limited);
        var services = type == DnsRecordType.SRV ? ServiceAnswer.Collect(message, in names, in index, current, currentId, scratch, out limited) : [];

        TimeSpan? negativeTtl = null;
        var empty = addresses.Count == 0 && services.Count == 0;
        if (empty && index.Soa is { } soa)
        {
            negativeTtl = TimeSpan.FromSeconds(NegativeTtl(message, soa));
        }

        return new DnsResponse
        {
            ResponseCode = header.ResponseCode,
            Addresses = addresses,
            Services = services,
            CanonicalNames = cnames,
            NegativeTtl = negativeTtl,
            UnfollowedTarget = empty && cnames.Count > 0 && negativeTtl is null && header.ResponseCode == DnsResponseCode.NoError ? current : null,
            ReachedRecordLimit = limited,
        };
    }

    // RFC 2308 section 5: the lesser of the SOA record's own TTL and its MINIMUM field (the record was validated).
    private static uint NegativeTtl(ReadOnlySpan<byte> message, in DnsRecordHeader soa)
    {
        var pos = DnsName.Skip(message, DnsName.Skip(message, soa.DataOffset));
        var minimum = BinaryPrimitives.ReadUInt32BigEndian(message[(pos + 16)..]);
        return Math.Min(soa.Ttl, minimum > int.MaxValue ? 0 : minimum);
    }

    private static List<DnsAddressRecord> Addresses(ReadOnlySpan<byte> message, in ReplyIndex index, string owner, int ownerId, DnsRecordType type, out bool limited)
    {
        limited = false;
        var addresses = new List<DnsAddressRecord>(ownerId == NameTable.None ? 0 : Math.Min(index.AnswersOfType, DnsLimits.MaxRecords));
        for (var i = 0; i < index.Count && ownerId != NameTable.None; i++)
        {
            ref readonly var r = ref index[i];
            if (r.Section != DnsSection.Answer || r.Type != type || index.OwnerId(i) != ownerId)
            {
                continue;
            }

            if (addresses.Count == DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            addresses.Add(new DnsAddressRecord(owner, new IPAddress(message.Slice(r.DataOffset, r.DataLength)), r.TimeToLive));
        }

        return addresses;
    }

    private static bool HasAnswer(in ReplyIndex index, int ownerId, DnsRecordType type)
    {
        for (var i = 0; i < index.Count; i++)
        {
            if (index.OwnerId(i) == ownerId && index[i].Section == DnsSection.Answer && index[i].Type == type)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryFindLink(in ReplyIndex index, int ownerId, out int link)
    {
        for (link = 0; link < index.Count; link++)
        {
            if (index.OwnerId(link) == ownerId && index[link].Type == DnsRecordType.CNAME)
            {
                return true;
            }
        }

        return false;
    }
}
