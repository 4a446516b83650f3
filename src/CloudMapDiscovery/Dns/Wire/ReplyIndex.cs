namespace CloudMapDiscovery.Dns.Wire;

/// <summary>
/// One validating pass over a reply: every record is checked (its fixed fields, and the shape of the data of the types
/// read: A, AAAA, CNAME, SRV, SOA), so that a malformed one fails here before any is used; every name is resolved once
/// through a <see cref="NameTable"/>, and the records that can matter kept with the ids of their names: answer records of the asked type (class IN)
/// or CNAME, and for an SRV question the A/AAAA records outside the authority section.
/// </summary>
internal ref struct ReplyIndex
{
    // A record takes at least 11 bytes (a one-byte name and the fixed fields), which bounds the entries by the bytes.
    private const int MinRecordSize = 11;
    private const int CancellationStride = 64;

    private readonly Span<DnsRecordHeader> _entries;
    private readonly Span<int> _ownerIds;
    private readonly Span<int> _dataIds;

    private ReplyIndex(Span<DnsRecordHeader> entries, Span<int> ownerIds, Span<int> dataIds)
    {
        _entries = entries;
        _ownerIds = ownerIds;
        _dataIds = dataIds;
    }

    public int Count { get; private set; }

    /// <summary>Answer records of the asked type (class IN), a capacity for the result.</summary>
    public int AnswersOfType { get; private set; }

    public bool HasCanonicalNames { get; private set; }

    /// <summary>The first SOA in the authority section, for a negative answer's TTL.</summary>
    public DnsRecordHeader? Soa { get; private set; }

    public readonly ref readonly DnsRecordHeader this[int i] => ref _entries[i];

    /// <summary>How many entries a message of this size and header can need at most.</summary>
    public static int Capacity(ReadOnlySpan<byte> message, DnsHeader header)
        => Math.Min(header.AnswerCount + header.AuthorityCount + header.AdditionalCount, Math.Max(0, message.Length - DnsHeader.Size) / MinRecordSize);

    /// <summary>The id of entry <paramref name="i"/>'s owner name.</summary>
    public readonly int OwnerId(int i) => _ownerIds[i];

    /// <summary>The id of the name in entry <paramref name="i"/>'s data: a CNAME's target or an SRV record's target.</summary>
    public readonly int DataId(int i) => _dataIds[i];

    /// <summary>Validates every record of the message and indexes those that matter; the spans must hold <see cref="Capacity"/> entries.</summary>
    public static ReplyIndex Build(
        ReadOnlySpan<byte> message, ref NameTable names, DnsRecordType type, Span<DnsRecordHeader> entries, Span<int> ownerIds, Span<int> dataIds, CancellationToken cancellationToken)
    {
        var index = new ReplyIndex(entries, ownerIds, dataIds);
        var header = DnsHeader.Read(message);
        var pos = DnsHeader.Size;
        for (var i = 0; i < header.QuestionCount; i++)
        {
            names.Resolve(pos, out pos);
            if (pos + 4 > message.Length)
            {
                throw new DnsFormatException("the question runs past the end of the message", pos);
            }

            pos += 4;
        }

        ReadOnlySpan<int> counts = [header.AnswerCount, header.AuthorityCount, header.AdditionalCount];
        var seen = 0;
        for (var section = DnsSection.Answer; section <= DnsSection.Additional; section++)
        {
            for (var remaining = counts[(int)section]; remaining > 0; remaining--)
            {
                if (++seen % CancellationStride == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var nameOffset = pos;
                var ownerId = names.Resolve(pos, out pos);
                var r = DnsMessageReader.ReadRecord(message, section, nameOffset, pos, remaining);
                pos = r.DataOffset + r.DataLength;
                var dataId = ValidateData(message, ref names, r);
                var isAnswerOfType = section == DnsSection.Answer && r.Type == type && r.Class == DnsMessageReader.ClassInternet;
                var isCanonicalName = section == DnsSection.Answer && r.Type == DnsRecordType.CNAME;
                var isTargetAddress = type == DnsRecordType.SRV && section != DnsSection.Authority
                    && r.Type is DnsRecordType.A or DnsRecordType.AAAA && r.Class == DnsMessageReader.ClassInternet;
                if (isAnswerOfType || isCanonicalName || isTargetAddress)
                {
                    (index._entries[index.Count], index._ownerIds[index.Count], index._dataIds[index.Count]) = (r, ownerId, dataId);
                    index.Count++;
                    index.AnswersOfType += isAnswerOfType ? 1 : 0;
                    index.HasCanonicalNames |= isCanonicalName;
                }
                else if (section == DnsSection.Authority && r.Type == DnsRecordType.SOA && index.Soa is null)
                {
                    index.Soa = r;
                }
            }
        }

        return index;
    }

    // The data of each type read has the shape its type requires, within its RDLENGTH; returns the id of the CNAME or SRV
    // target (else -1).
    private static int ValidateData(ReadOnlySpan<byte> message, ref NameTable names, in DnsRecordHeader record)
    {
        var end = record.DataOffset + record.DataLength;
        int id, after;
        switch (record.Type)
        {
            case DnsRecordType.A when record.DataLength != 4:
            case DnsRecordType.AAAA when record.DataLength != 16:
                throw new DnsFormatException($"an {record.Type} record has {record.DataLength} bytes of data", record.DataOffset);
            case DnsRecordType.CNAME:
                id = names.Resolve(record.DataOffset, out after);
                return after > end ? throw new DnsFormatException("a CNAME target runs past its record", record.DataOffset) : id;
            case DnsRecordType.SRV:
                if (record.DataLength < 7)
                {
                    throw new DnsFormatException("an SRV record is shorter than its fields", record.DataOffset);
                }

                id = names.Resolve(record.DataOffset + 6, out after);
                return after > end ? throw new DnsFormatException("an SRV record is shorter than its fields", record.DataOffset) : id;
            case DnsRecordType.SOA:
                names.Resolve(record.DataOffset, out after);
                if (after >= end)
                {
                    throw new DnsFormatException("an SOA record is shorter than its fields", record.DataOffset);
                }

                names.Resolve(after, out after);
                return after + 20 > end ? throw new DnsFormatException("an SOA record is shorter than its fields", record.DataOffset) : -1;
            default:
                return -1;
        }
    }
}
