using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Turns a reply into the records that answer one question.</summary>
/// <remarks>
/// One pass validates every record (its fixed fields, and the data of the types read: A, AAAA, CNAME, SRV, SOA), so a
/// malformed one fails the reply before any is used, and keeps those that can matter: answers of the asked type
/// (class IN), CNAMEs, and for an SRV question the A/AAAA records outside the authority section. Then the CNAME chain
/// is followed inside the answer, at most <see cref="DnsLimits.MaxRecords"/> records of the asked type are taken at
/// its end, SRV targets get their addresses from the reply (<see cref="ServiceRecords"/>), and a negative answer its
/// TTL from the SOA. Each name is read once (<see cref="NameCache"/>) and compared as text, so the work is linear in
/// the reply's size, whatever its content.
/// </remarks>
internal static class DnsResponseParser
{
    // A record takes at least 11 bytes (a one-byte name and the fixed fields), which bounds the records by the bytes.
    private const int MinRecordSize = 11;
    private const int CancellationStride = 64;

    public static DnsResponse Parse(ReadOnlySpan<byte> message, string name, DnsRecordType type, int maxCnameChain, CancellationToken cancellationToken = default)
    {
        var header = DnsHeader.Read(message);
        var capacity = Math.Min(header.AnswerCount + header.AuthorityCount + header.AdditionalCount, Math.Max(0, message.Length - DnsHeader.Size) / MinRecordSize);
        var records = ArrayPool<ReplyRecord>.Shared.Rent(capacity);
        var names = NameCache.Rent();
        try
        {
            var count = Read(message, names, header, name, type, records, out var negativeTtl, cancellationToken);
            return Interpret(message, header, records.AsSpan(0, count), negativeTtl, name, type, maxCnameChain);
        }
        finally
        {
            names.Return();
            ArrayPool<ReplyRecord>.Shared.Return(records, clearArray: true);
        }
    }

    // Validates every record and keeps those that can matter; the negative TTL comes from the first SOA of the authority.
    private static int Read(
        ReadOnlySpan<byte> message, NameCache names, DnsHeader header, string name, DnsRecordType type, ReplyRecord[] records, out uint? negativeTtl, CancellationToken cancellationToken)
    {
        negativeTtl = null;
        var pos = DnsHeader.Size;
        for (var i = 0; i < header.QuestionCount; i++)
        {
            // Written as asked, the question's text is the caller's string: names pointing to it then compare by reference.
            var question = DnsName.Read(message, pos, out pos, names);
            if (i == 0 && string.Equals(question, name, StringComparison.Ordinal))
            {
                names.Alias(DnsHeader.Size, name);
            }

            if (pos + 4 > message.Length)
            {
                throw new DnsFormatException("the question runs past the end of the message", pos);
            }

            pos += 4;
        }

        ReadOnlySpan<int> counts = [header.AnswerCount, header.AuthorityCount, header.AdditionalCount];
        var (count, seen) = (0, 0);
        for (var section = DnsSection.Answer; section <= DnsSection.Additional; section++)
        {
            for (var remaining = counts[(int)section]; remaining > 0; remaining--)
            {
                if (++seen % CancellationStride == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var nameOffset = pos;
                var owner = DnsName.Read(message, pos, out pos, names);
                var r = DnsMessageReader.ReadRecord(message, section, nameOffset, pos, remaining);
                pos = r.DataOffset + r.DataLength;
                var target = ReadData(message, names, r, out var soaMinimum);
                var inClass = r.Class == DnsMessageReader.ClassInternet;
                if ((section == DnsSection.Answer && ((r.Type == type && inClass) || r.Type == DnsRecordType.CNAME))
                    || (type == DnsRecordType.SRV && section != DnsSection.Authority && r.Type is DnsRecordType.A or DnsRecordType.AAAA && inClass))
                {
                    records[count++] = new ReplyRecord(r, owner, target);
                }
                else if (section == DnsSection.Authority && r.Type == DnsRecordType.SOA && negativeTtl is null)
                {
                    // RFC 2308 section 5: the lesser of the SOA record's own TTL and its MINIMUM field.
                    negativeTtl = Math.Min(r.Ttl, soaMinimum > int.MaxValue ? 0 : soaMinimum);
                }
            }
        }

        return count;
    }

    // The data of each type read has the shape its type requires, within its RDLENGTH; returns a CNAME's or SRV record's target.
    private static string? ReadData(ReadOnlySpan<byte> message, NameCache names, in DnsRecordHeader record, out uint soaMinimum)
    {
        var end = record.DataOffset + record.DataLength;
        soaMinimum = 0;
        string target;
        int after;
        switch (record.Type)
        {
            case DnsRecordType.A when record.DataLength != 4:
            case DnsRecordType.AAAA when record.DataLength != 16:
                throw new DnsFormatException($"an {record.Type} record has {record.DataLength} bytes of data", record.DataOffset);
            case DnsRecordType.CNAME:
                target = DnsName.Read(message, record.DataOffset, out after, names);
                return after > end ? throw new DnsFormatException("a CNAME target runs past its record", record.DataOffset) : target;
            case DnsRecordType.SRV:
                if (record.DataLength < 7)
                {
                    throw new DnsFormatException("an SRV record is shorter than its fields", record.DataOffset);
                }

                target = DnsName.Read(message, record.DataOffset + 6, out after, names);
                return after > end ? throw new DnsFormatException("an SRV record is shorter than its fields", record.DataOffset) : target;
            case DnsRecordType.SOA:
                DnsName.Read(message, record.DataOffset, out after, names);
                if (after < end)
                {
                    DnsName.Read(message, after, out after, names);
                }

                if (after + 20 > end)
                {
                    throw new DnsFormatException("an SOA record is shorter than its fields", record.DataOffset);
                }

                soaMinimum = BinaryPrimitives.ReadUInt32BigEndian(message[(after + 16)..]);
                return null;
            default:
                return null;
        }
    }

    private static DnsResponse Interpret(
        ReadOnlySpan<byte> message, DnsHeader header, ReadOnlySpan<ReplyRecord> records, uint? negativeTtlSeconds, string name, DnsRecordType type, int maxCnameChain)
    {
        var (cnames, current) = FollowChain(records, name, type, maxCnameChain);
        var limited = false;
        var addresses = type == DnsRecordType.SRV ? [] : Addresses(message, records, current, type, out limited);
        var services = type == DnsRecordType.SRV ? ServiceRecords.Collect(message, records, current, out limited) : [];
        var empty = addresses.Count == 0 && services.Count == 0;
        TimeSpan? negativeTtl = empty && negativeTtlSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
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

    // The CNAME chain inside the answer, from the name asked to the first name that has answers of the type (or no alias).
    private static (List<DnsCanonicalNameRecord> Chain, string End) FollowChain(ReadOnlySpan<ReplyRecord> records, string name, DnsRecordType type, int maxCnameChain)
    {
        var chain = new List<DnsCanonicalNameRecord>();
        // Names come from the cache, equal ones mostly as one string: each string's characters are hashed once.
        Dictionary<string, int>? links = null;
        HashSet<string>? seen = null;
        for (var i = 0; i < records.Length; i++)
        {
            if (records[i].Header.Type == DnsRecordType.CNAME && (seen ??= new(ReferenceEqualityComparer.Instance)).Add(records[i].Owner))
            {
                (links ??= new(StringComparer.OrdinalIgnoreCase)).TryAdd(records[i].Owner, i);
            }
        }

        if (links is null || seen is null)
        {
            return (chain, name);
        }

        var answered = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        seen.Clear();
        foreach (ref readonly var r in records)
        {
            if (r.Header.Section == DnsSection.Answer && r.Header.Type == type && seen.Add(r.Owner))
            {
                answered.Add(r.Owner);
            }
        }

        var current = name;
        while (!answered.Contains(current) && links.TryGetValue(current, out var link))
        {
            if (chain.Count >= maxCnameChain)
            {
                throw new DnsFormatException($"the CNAME chain from {name} is longer than {maxCnameChain} links");
            }

            var target = records[link].Target!;
            if (string.Equals(target, name, StringComparison.OrdinalIgnoreCase) || chain.Exists(c => string.Equals(c.Target, target, StringComparison.OrdinalIgnoreCase)))
            {
                throw new DnsFormatException($"the CNAME chain from {name} loops back to {target}");
            }

            chain.Add(new DnsCanonicalNameRecord(current, target, records[link].Header.TimeToLive));
            current = target;
        }

        return (chain, current);
    }

    private static List<DnsAddressRecord> Addresses(ReadOnlySpan<byte> message, ReadOnlySpan<ReplyRecord> records, string owner, DnsRecordType type, out bool limited)
    {
        limited = false;
        var ofType = 0;
        foreach (ref readonly var r in records)
        {
            ofType += r.Header.Type == type ? 1 : 0;
        }

        var addresses = new List<DnsAddressRecord>(Math.Min(ofType, DnsLimits.MaxRecords));
        var (last, matches) = (owner, true);
        foreach (ref readonly var r in records)
        {
            // Records of one name mostly share its string: compared once.
            if (!ReferenceEquals(r.Owner, last))
            {
                (last, matches) = (r.Owner, string.Equals(r.Owner, owner, StringComparison.OrdinalIgnoreCase));
            }

            if (r.Header.Type != type || !matches)
            {
                continue;
            }

            if (addresses.Count == DnsLimits.MaxRecords)
            {
                limited = true;
                break;
            }

            addresses.Add(new DnsAddressRecord(owner, new IPAddress(message.Slice(r.Header.DataOffset, r.Header.DataLength)), r.Header.TimeToLive));
        }

        return addresses;
    }
}
