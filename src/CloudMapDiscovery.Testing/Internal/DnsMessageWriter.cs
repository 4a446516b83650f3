using System.Buffers.Binary;
using System.Text;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Builds a DNS message.</summary>
/// <remarks>
/// Names are compressed (RFC 1035 section 4.1.4) against every name written before, including the question, so clients'
/// pointer handling is exercised on every reply.
/// </remarks>
internal sealed class DnsMessageWriter
{
    private readonly Dictionary<string, int> _suffixOffsets = new(StringComparer.Ordinal);
    private byte[] _buffer = new byte[512];

    public int Length { get; private set; }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[Length++] = value;
    }

    public void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(Length), value);
        Length += 2;
    }

    public void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(Length), value);
        Length += 4;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(Length));
        Length += value.Length;
    }

    public void PatchUInt16(int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(offset), value);

    /// <summary>Writes a name, pointing at an earlier copy of its longest known suffix when <paramref name="compress"/> is set.</summary>
    /// <param name="labels">The labels, as they should appear where they are written in full.</param>
    /// <param name="compress">False where RFC 2782 forbids compression (the SRV target); the name is still remembered for later names.</param>
    public void WriteName(IReadOnlyList<string> labels, bool compress = true)
    {
        for (var i = 0; i < labels.Count; i++)
        {
            var key = SuffixKey(labels, i);
            if (compress && _suffixOffsets.TryGetValue(key, out var offset))
            {
                WriteUInt16((ushort)(0xC000 | offset));
                return;
            }

            // Pointers have 14 bits; names further in are written in full and not offered as targets.
            if (Length < 0x4000)
            {
                _suffixOffsets.TryAdd(key, Length);
            }

            var bytes = Encoding.Latin1.GetBytes(labels[i]);
            WriteByte((byte)bytes.Length);
            WriteBytes(bytes);
        }

        WriteByte(0);
    }

    public void WriteName(string name, bool compress = true) => WriteName(DnsNames.SplitLabels(name), compress);

    public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();

    // Length-prefixed labels keep "a.b" as one label apart from "a" then "b".
    private static string SuffixKey(IReadOnlyList<string> labels, int start)
    {
        var builder = new StringBuilder();
        for (var i = start; i < labels.Count; i++)
        {
            builder.Append((char)labels[i].Length).Append(DnsNames.AsciiLower(labels[i]));
        }

        return builder.ToString();
    }

    private void Ensure(int count)
    {
        if (Length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        }
    }
}
