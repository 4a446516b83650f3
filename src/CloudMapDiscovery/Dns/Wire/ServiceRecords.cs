using System.Buffers.Binary;
using System.Net;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>The SRV records of an answer with their targets' addresses from the reply, each record with its own array.</summary>
/// <remarks>
/// One pass over the records groups them by target (compared as text, ASCII case-insensitively) and one over the
/// addresses attaches each to its target, so many records and targets cost linear time. At most
/// <see cref="DnsLimits.MaxRecords"/> endpoints come out (a record times its target's addresses, a record without
/// addresses counting one); records past that are dropped in reply order, before any address array is copied.
/// </remarks>
internal static class ServiceRecords
{
    /// <summary>The SRV records of <paramref name="owner"/> (the question, or the end of its CNAME chain) in <paramref name="records"/>.</summary>
    public static List<DnsServiceRecord> Collect(ReadOnlySpan<byte> message, ReadOnlySpan<ReplyRecord> records, string owner, out bool limited)
    {
        limited = false;
        var srv = 0;
        foreach (ref readonly var r in records)
        {
            srv += r.Header.Type == DnsRecordType.SRV ? 1 : 0;
        }

        var picked = new List<(int Record, string Target, List<DnsAddressRecord> Addresses)>(Math.Min(srv, DnsLimits.MaxRecords));
        var targets = new Dictionary<string, (string Text, List<DnsAddressRecord> Addresses)>(Math.Min(srv, DnsLimits.MaxRecords), StringComparer.OrdinalIgnoreCase);
        var (lastTarget, target) = ((string?)null, default((string Text, List<DnsAddressRecord> Addresses)));
        for (var i = 0; i < records.Length; i++)
        {
            ref readonly var r = ref records[i];
            if (r.Header.Section != DnsSection.Answer || r.Header.Type != DnsRecordType.SRV || !string.Equals(r.Owner, owner, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (picked.Count == DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            // A target's text is that of the first record naming it; later ones share it (and mostly its string).
            if (!ReferenceEquals(r.Target, lastTarget) && !targets.TryGetValue(lastTarget = r.Target!, out target))
            {
                targets.Add(r.Target!, target = (r.Target!, []));
            }

            picked.Add((i, target.Text!, target.Addresses!));
        }

        var kept = 0;
        var (last, found) = ((string?)null, false);
        foreach (ref readonly var r in records)
        {
            // Records of one name mostly share its string: looked up once.
            if (picked.Count == 0 || r.Header.Type is not (DnsRecordType.A or DnsRecordType.AAAA))
            {
                continue;
            }

            if (!ReferenceEquals(r.Owner, last))
            {
                (last, found) = (r.Owner, targets.TryGetValue(r.Owner, out target));
            }

            if (!found)
            {
                continue;
            }

            if (kept++ == DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            target.Addresses!.Add(new DnsAddressRecord(target.Text!, new IPAddress(message.Slice(r.Header.DataOffset, r.Header.DataLength)), r.Header.TimeToLive));
        }

        var services = new List<DnsServiceRecord>(picked.Count);
        var endpoints = 0;
        foreach (var (i, text, addresses) in picked)
        {
            if ((endpoints += Math.Max(1, addresses.Count)) > DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            var data = message.Slice(records[i].Header.DataOffset, 6);
            var (priority, weight, port) = (BinaryPrimitives.ReadUInt16BigEndian(data), BinaryPrimitives.ReadUInt16BigEndian(data[2..]), BinaryPrimitives.ReadUInt16BigEndian(data[4..]));
            services.Add(new DnsServiceRecord(owner, priority, weight, port, text, records[i].Header.TimeToLive, addresses.ToArray()));
        }

        return services;
    }
}
