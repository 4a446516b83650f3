using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>A record to put in a reply.</summary>
/// <remarks>
/// Names are lower-case and dotted; compression restores the client's case where they match the question.
/// </remarks>
internal abstract class ResourceRecord(string name, DnsRecordType type, uint ttl)
{
    public string Name { get; } = name;

    public DnsRecordType Type { get; } = type;

    public uint Ttl { get; } = ttl;

    public void Write(DnsMessageWriter writer)
    {
        writer.WriteName(Name);
        writer.WriteUInt16((ushort)Type);
        writer.WriteUInt16(1);
        writer.WriteUInt32(Ttl);
        var lengthOffset = writer.Length;
        writer.WriteUInt16(0);
        WriteData(writer);
        writer.PatchUInt16(lengthOffset, (ushort)(writer.Length - lengthOffset - 2));
    }

    public abstract string DataText { get; }

    protected abstract void WriteData(DnsMessageWriter writer);

    /// <summary>Converts a TTL to the wire's seconds; RFC 2181 caps it at 2^31 - 1.</summary>
    public static uint Seconds(TimeSpan ttl) => (uint)Math.Clamp(Math.Floor(ttl.TotalSeconds), 0, int.MaxValue);
}

internal sealed class AddressRecord(string name, uint ttl, IPAddress address)
    : ResourceRecord(name, address.AddressFamily == AddressFamily.InterNetworkV6 ? DnsRecordType.AAAA : DnsRecordType.A, ttl)
{
    public IPAddress Address { get; } = address;

    public override string DataText => Address.ToString();

    protected override void WriteData(DnsMessageWriter writer) => writer.WriteBytes(Address.GetAddressBytes());
}

internal sealed class ServiceRecord(string name, uint ttl, ushort priority, ushort weight, ushort port, string target)
    : ResourceRecord(name, DnsRecordType.SRV, ttl)
{
    public string Target { get; } = target;

    public override string DataText => $"{priority} {weight} {port} {Target}.";

    protected override void WriteData(DnsMessageWriter writer)
    {
        writer.WriteUInt16(priority);
        writer.WriteUInt16(weight);
        writer.WriteUInt16(port);
        writer.WriteName(Target, compress: false);
    }
}

internal sealed class CanonicalNameRecord(string name, uint ttl, string target)
    : ResourceRecord(name, DnsRecordType.CNAME, ttl)
{
    public override string DataText => target + ".";

    protected override void WriteData(DnsMessageWriter writer) => writer.WriteName(target);
}

internal sealed class StartOfAuthorityRecord(string zone, uint ttl, uint serial, uint minimum)
    : ResourceRecord(zone, DnsRecordType.SOA, ttl)
{
    private readonly string _primary = "ns." + zone;
    private readonly string _mailbox = "hostmaster." + zone;

    public override string DataText => $"{_primary}. {_mailbox}. {serial} 7200 900 1209600 {minimum}";

    protected override void WriteData(DnsMessageWriter writer)
    {
        writer.WriteName(_primary);
        writer.WriteName(_mailbox);
        writer.WriteUInt32(serial);
        writer.WriteUInt32(7200);
        writer.WriteUInt32(900);
        writer.WriteUInt32(1209600);
        writer.WriteUInt32(minimum);
    }
}
