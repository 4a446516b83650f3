using System.Buffers.Binary;
using System.Net;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// The SRV records of an answer with their targets' addresses, in one pass over the records and one over the
/// addresses: each distinct target is read once and gets one address list, shared by every SRV record that names
/// it. At most <see cref="DnsLimits.MaxRecords"/> endpoints come out (a record times its target's addresses, a
/// record without addresses counting one); records past that are dropped in reply order.
/// </summary>
internal static class ServiceAnswer
{
    /// <param name="message">The reply.</param>
    /// <param name="names">Its names (for the targets' text).</param>
    /// <param name="index">Its records, with the ids of their names.</param>
    /// <param name="owner">The SRV records' owner (the question, or the end of its CNAME chain).</param>
    /// <param name="ownerId">Its name id.</param>
    /// <param name="targetOf">Scratch of <see cref="NameTable.MaxIds"/> ints: 1 + the target number of a name id.</param>
    /// <param name="limited">Whether records were dropped.</param>
    public static List<DnsServiceRecord> Collect(
        ReadOnlySpan<byte> message, in NameTable names, in ReplyIndex index, string owner, int ownerId, Span<int> targetOf, out bool limited)
    {
        limited = false;
        var services = new List<DnsServiceRecord>(ownerId == NameTable.None ? 0 : Math.Min(index.AnswersOfType, DnsLimits.MaxRecords));
        if (ownerId == NameTable.None)
        {
            return services;
        }

        // A target's text and address list live in the first record that names it; later ones share them.
        targetOf.Clear();
        for (var i = 0; i < index.Count; i++)
        {
            ref readonly var r = ref index[i];
            if (r.Section != DnsSection.Answer || r.Type != DnsRecordType.SRV || index.OwnerId(i) != ownerId)
            {
                continue;
            }

            if (services.Count == DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            var targetId = index.DataId(i);
            string target;
            List<DnsAddressRecord> addresses;
            if (targetOf[targetId] == 0)
            {
                (target, addresses) = (names.Text(r.DataOffset + 6), []);
                targetOf[targetId] = services.Count + 1;
            }
            else
            {
                var first = services[targetOf[targetId] - 1];
                (target, addresses) = (first.Target, (List<DnsAddressRecord>)first.Addresses);
            }

            var data = message.Slice(r.DataOffset, 6);
            var (priority, weight, port) = (BinaryPrimitives.ReadUInt16BigEndian(data), BinaryPrimitives.ReadUInt16BigEndian(data[2..]), BinaryPrimitives.ReadUInt16BigEndian(data[4..]));
            services.Add(new DnsServiceRecord(owner, priority, weight, port, target, r.TimeToLive, addresses));
        }

        limited |= AttachAddresses(message, in index, services, targetOf);
        limited |= KeepWithinBudget(services);
        return services;
    }

    // Every A/AAAA record outside the authority section whose owner is a target joins that target's list.
    private static bool AttachAddresses(ReadOnlySpan<byte> message, in ReplyIndex index, List<DnsServiceRecord> services, Span<int> targetOf)
    {
        var kept = 0;
        for (var i = 0; i < index.Count && services.Count > 0; i++)
        {
            ref readonly var r = ref index[i];
            var first = targetOf[index.OwnerId(i)] - 1;
            if (first < 0 || r.Type is not (DnsRecordType.A or DnsRecordType.AAAA))
            {
                continue;
            }

            if (kept++ == DnsLimits.MaxRecords)
            {
                return true;
            }

            var target = services[first];
            ((List<DnsAddressRecord>)target.Addresses).Add(new DnsAddressRecord(target.Target, new IPAddress(message.Slice(r.DataOffset, r.DataLength)), r.TimeToLive));
        }

        return false;
    }

    /// <summary>
    /// Keeps the records, in order, while the endpoints they turn into (a record times its target's addresses, one
    /// without addresses counting one) stay within <see cref="DnsLimits.MaxRecords"/>; returns whether any were dropped.
    /// The resolver applies it again once follow-up queries have filled in targets' addresses.
    /// </summary>
    public static bool KeepWithinBudget(List<DnsServiceRecord> services)
    {
        var endpoints = 0;
        for (var i = 0; i < services.Count; i++)
        {
            endpoints += Math.Max(1, services[i].Addresses.Count);
            if (endpoints > DnsLimits.MaxRecords)
            {
                services.RemoveRange(i, services.Count - i);
                return true;
            }
        }

        return false;
    }
}
