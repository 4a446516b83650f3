namespace CloudMapDiscovery.Testing.Internal;

/// <summary>A parsed query: the one question and what the client said about EDNS.</summary>
internal sealed class DnsQuery
{
    public required ushort Id { get; init; }

    public required ushort Flags { get; init; }

    /// <summary>Gets the question name's labels exactly as sent, so that replies echo the client's letter case.</summary>
    public required string[] Labels { get; init; }

    /// <summary>Gets the question name lower-cased and dotted, empty for the root.</summary>
    public required string Name { get; init; }

    public required ushort Type { get; init; }

    public required ushort Class { get; init; }

    public bool HasEdns { get; init; }

    public ushort EdnsPayloadSize { get; init; }

    public byte EdnsVersion { get; init; }

    public int Opcode => (Flags >> 11) & 0xF;
}
