namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Builds replies that pass ID and question matching and then break the client's parser.</summary>
internal static class MalformedReplies
{
    public static byte[] Build(DnsQuery query, DnsMalformation malformation)
    {
        var writer = new DnsMessageWriter();
        writer.WriteUInt16(query.Id);
        writer.WriteUInt16((ushort)(0x8400 | (query.Flags & 0x0100)));
        writer.WriteUInt16(1);
        writer.WriteUInt16((ushort)(malformation == DnsMalformation.CountTooLarge ? 3 : 1));
        writer.WriteUInt16(0);
        writer.WriteUInt16(0);
        writer.WriteName(query.Labels);
        writer.WriteUInt16(query.Type);
        writer.WriteUInt16(query.Class);
        switch (malformation)
        {
            case DnsMalformation.CountTooLarge:
                // Three answers announced, none present.
                break;
            case DnsMalformation.CompressionLoop:
                var self = writer.Length;
                writer.WriteUInt16((ushort)(0xC000 | self));
                WriteAddressTail(writer, complete: true);
                break;
            case DnsMalformation.PointerOutOfRange:
                writer.WriteUInt16(0xFFFF);
                WriteAddressTail(writer, complete: true);
                break;
            case DnsMalformation.TruncatedRecord:
                writer.WriteUInt16(0xC00C);
                WriteAddressTail(writer, complete: false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(malformation), malformation, null);
        }

        return writer.ToArray();
    }

    private static void WriteAddressTail(DnsMessageWriter writer, bool complete)
    {
        writer.WriteUInt16(1);
        writer.WriteUInt16(1);
        writer.WriteUInt32(60);
        writer.WriteUInt16(4);
        writer.WriteBytes(complete ? [127, 0, 0, 1] : [127, 0]);
    }
}
