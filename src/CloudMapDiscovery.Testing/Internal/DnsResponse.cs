namespace CloudMapDiscovery.Testing.Internal;

/// <summary>A reply being assembled; <see cref="Serialize"/> turns it into bytes and truncates it to the client's limit.</summary>
internal sealed class DnsResponse
{
    public required ushort Id { get; set; }

    /// <summary>Gets or sets the query's flags; the reply copies its opcode and RD bit.</summary>
    public required ushort QueryFlags { get; init; }

    /// <summary>Gets or sets the question to echo, or null for a reply without one (FORMERR to an unreadable question).</summary>
    public string[]? QuestionLabels { get; set; }

    public ushort QuestionType { get; init; }

    public ushort QuestionClass { get; init; }

    public bool Authoritative { get; set; }

    public bool Truncated { get; set; }

    /// <summary>Gets or sets the response code, up to 12 bits; the upper 8 go into the OPT record.</summary>
    public int ResponseCode { get; set; }

    public bool IncludeOpt { get; set; }

    public ushort OptPayloadSize { get; set; }

    public List<ResourceRecord> Answers { get; } = [];

    public List<ResourceRecord> Authority { get; } = [];

    public List<ResourceRecord> Additional { get; } = [];

    /// <summary>Writes the reply; when it exceeds <paramref name="maxLength"/> writes instead an empty reply with TC=1, as the client must retry over TCP anyway.</summary>
    public byte[] Serialize(int maxLength)
    {
        var full = Write(withRecords: true);
        return full.Length <= maxLength ? full : Write(withRecords: false);
    }

    private byte[] Write(bool withRecords)
    {
        var writer = new DnsMessageWriter();
        var flags = 0x8000 | (QueryFlags & 0x7800) | (QueryFlags & 0x0100) | (ResponseCode & 0xF);
        if (Authoritative)
        {
            flags |= 0x0400;
        }

        if (Truncated || !withRecords)
        {
            flags |= 0x0200;
        }

        writer.WriteUInt16(Id);
        writer.WriteUInt16((ushort)flags);
        writer.WriteUInt16((ushort)(QuestionLabels is null ? 0 : 1));
        writer.WriteUInt16((ushort)(withRecords ? Answers.Count : 0));
        writer.WriteUInt16((ushort)(withRecords ? Authority.Count : 0));
        writer.WriteUInt16((ushort)((withRecords ? Additional.Count : 0) + (IncludeOpt ? 1 : 0)));
        if (QuestionLabels is not null)
        {
            writer.WriteName(QuestionLabels);
            writer.WriteUInt16(QuestionType);
            writer.WriteUInt16(QuestionClass);
        }

        if (withRecords)
        {
            foreach (var record in Answers)
            {
                record.Write(writer);
            }

            foreach (var record in Authority)
            {
                record.Write(writer);
            }

            foreach (var record in Additional)
            {
                record.Write(writer);
            }
        }

        if (IncludeOpt)
        {
            // OPT: root owner, CLASS = our UDP payload size, TTL = extended RCODE, version 0, no flags.
            writer.WriteByte(0);
            writer.WriteUInt16(41);
            writer.WriteUInt16(OptPayloadSize);
            writer.WriteUInt32((uint)((ResponseCode >> 4) & 0xFF) << 24);
            writer.WriteUInt16(0);
        }

        return writer.ToArray();
    }
}
