namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// Turns a validated reply into the records that answer one question: follows the CNAME chain inside
/// the answer section, collects records of the asked type at its end, attaches SRV targets' addresses
/// from the additional section, and reads the negative TTL from an SOA. Allocates only the result.
/// </summary>
internal static class DnsResponseParser
{
    public static DnsResponse Parse(ReadOnlySpan<byte> message, string name, DnsRecordType type, int maxCnameChain)
    {
        var reader = new DnsMessageReader(message);
        reader.ValidateAll();
        var header = reader.Header;

        var cnames = new List<DnsCanonicalNameRecord>();
        var current = name;
        while (!HasRecord(reader, current, type) && TryFindCanonicalName(reader, current, out var link))
        {
            if (cnames.Count >= maxCnameChain)
            {
                throw new DnsFormatException($"the CNAME chain from {name} is longer than {maxCnameChain} links");
            }

            var target = reader.ReadCanonicalNameTarget(link);
            if (string.Equals(target, name, StringComparison.OrdinalIgnoreCase) || cnames.Exists(c => string.Equals(c.Name, target, StringComparison.OrdinalIgnoreCase)))
            {
                throw new DnsFormatException($"the CNAME chain from {name} loops back to {target}");
            }

            cnames.Add(new DnsCanonicalNameRecord(current, target, link.TimeToLive));
            current = target;
        }

        var addresses = type == DnsRecordType.SRV ? [] : new List<DnsAddressRecord>(header.AnswerCount);
        var services = type == DnsRecordType.SRV ? new List<DnsServiceRecord>(header.AnswerCount) : [];
        var scan = reader;
        while (scan.TryReadNext(out var r) && r.Section == DnsSection.Answer)
        {
            if (r.Type != type || r.Class != DnsMessageReader.ClassInternet || !reader.NameEquals(r, current))
            {
                continue;
            }

            if (type == DnsRecordType.SRV)
            {
                var (priority, weight, port) = reader.ReadServiceFields(r);
                var target = reader.ReadServiceTarget(r);
                services.Add(new DnsServiceRecord(current, priority, weight, port, target, r.TimeToLive, TargetAddresses(reader, target)));
            }
            else
            {
                addresses.Add(new DnsAddressRecord(current, reader.ReadAddress(r), r.TimeToLive));
            }
        }

        TimeSpan? negativeTtl = null;
        var empty = addresses.Count == 0 && services.Count == 0;
        if (empty)
        {
            scan = reader;
            while (scan.TryReadNext(out var r))
            {
                if (r.Section == DnsSection.Authority && r.Type == DnsRecordType.SOA)
                {
                    negativeTtl = TimeSpan.FromSeconds(reader.ReadNegativeTtl(r));
                    break;
                }
            }
        }

        return new DnsResponse
        {
            ResponseCode = header.ResponseCode,
            Addresses = addresses,
            Services = services,
            CanonicalNames = cnames,
            NegativeTtl = negativeTtl,
            UnfollowedTarget = empty && cnames.Count > 0 && negativeTtl is null && header.ResponseCode == DnsResponseCode.NoError ? current : null,
        };
    }

    private static bool HasRecord(DnsMessageReader reader, string owner, DnsRecordType type)
    {
        while (reader.TryReadNext(out var r) && r.Section == DnsSection.Answer)
        {
            if (r.Type == type && reader.NameEquals(r, owner))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryFindCanonicalName(DnsMessageReader reader, string owner, out DnsRecordHeader link)
    {
        var scan = reader;
        while (scan.TryReadNext(out link) && link.Section == DnsSection.Answer)
        {
            if (link.Type == DnsRecordType.CNAME && reader.NameEquals(link, owner))
            {
                return true;
            }
        }

        link = default;
        return false;
    }

    private static List<DnsAddressRecord> TargetAddresses(DnsMessageReader reader, string target)
    {
        List<DnsAddressRecord>? found = null;
        var scan = reader;
        while (scan.TryReadNext(out var r))
        {
            if (r.Section != DnsSection.Authority
                && r.Type is DnsRecordType.A or DnsRecordType.AAAA
                && r.Class == DnsMessageReader.ClassInternet
                && reader.NameEquals(r, target))
            {
                (found ??= []).Add(new DnsAddressRecord(target, reader.ReadAddress(r), r.TimeToLive));
            }
        }

        return found ?? [];
    }
}
