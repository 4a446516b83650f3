using System.Buffers.Binary;
using System.Security.Cryptography;

namespace CloudMapDiscovery.Dns.Wire;

/// <summary>Writes a standard query with one question and, optionally, an EDNS(0) OPT record.</summary>
internal static class DnsQueryWriter
{
    /// <summary>Large enough for any query we write: header, a 255-byte name, question fields and an OPT record.</summary>
    public const int MaxQuerySize = DnsHeader.Size + DnsName.MaxLength + 4 + 11;

    /// <summary>A query ID from a cryptographic source: guessable IDs are the first step of cache poisoning.</summary>
    public static ushort NewId()
    {
        Span<byte> bytes = stackalloc byte[2];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt16BigEndian(bytes);
    }

    public static int Write(Span<byte> destination, ushort id, string name, DnsRecordType type, int ednsPayloadSize)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0x0100); // RD: harmless to an authoritative server, needed by a recursive one
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)(ednsPayloadSize > 0 ? 1 : 0));
        var pos = DnsHeader.Size;
        pos += DnsNameText.Write(destination[pos..], name);
        BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], DnsMessageReader.ClassInternet);
        pos += 4;
        if (ednsPayloadSize > 0)
        {
            destination[pos++] = 0; // root owner name
            BinaryPrimitives.WriteUInt16BigEndian(destination[pos..], (ushort)DnsRecordType.OPT);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 2)..], (ushort)ednsPayloadSize);
            BinaryPrimitives.WriteUInt32BigEndian(destination[(pos + 4)..], 0); // extended RCODE 0, version 0, no DO bit
            BinaryPrimitives.WriteUInt16BigEndian(destination[(pos + 8)..], 0);
            pos += 10;
        }

        return pos;
    }
}
