using System.Globalization;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Testing;

/// <summary>
/// A misbehaviour of <see cref="DnsTestServer"/>, injected with <see cref="DnsTestServer.InjectFault"/>.
/// </summary>
/// <remarks>Create one with the static factory methods; instances are immutable and may be reused.</remarks>
public sealed class DnsFault
{
    private DnsFault(DnsFaultKind kind)
    {
        Kind = kind;
    }

    /// <summary>Gets what the fault does.</summary>
    public DnsFaultKind Kind { get; }

    /// <summary>Gets how long a <see cref="DnsFaultKind.Delay"/> fault holds the answer back; otherwise zero.</summary>
    public TimeSpan Duration { get; private init; }

    /// <summary>Gets the response code of a <see cref="DnsFaultKind.ResponseCode"/> fault; otherwise <see cref="DnsResponseCode.NoError"/>.</summary>
    public DnsResponseCode ResponseCode { get; private init; }

    /// <summary>Gets how a <see cref="DnsFaultKind.Malformed"/> reply is broken.</summary>
    public DnsMalformation Malformation { get; private init; }

    /// <summary>Gets the reply of a <see cref="DnsFaultKind.RawReply"/> fault; otherwise empty.</summary>
    public ReadOnlyMemory<byte> ReplyBytes { get; private init; }

    /// <summary>Gets a value indicating whether a <see cref="DnsFaultKind.RawReply"/> fault overwrites the first two bytes with the query's ID.</summary>
    public bool ReplaceId { get; private init; }

    /// <summary>Gets how the bogus reply of a <see cref="DnsFaultKind.SpoofFirst"/> fault differs from a genuine one.</summary>
    public DnsSpoofing Spoofing { get; private init; }

    /// <summary>Creates a fault that reads the query and never replies.</summary>
    /// <returns>The fault.</returns>
    public static DnsFault Drop() => new(DnsFaultKind.Drop);

    /// <summary>Creates a fault that answers normally after <paramref name="duration"/>, measured on the server's <see cref="TimeProvider"/> so that tests can use a manual clock.</summary>
    /// <param name="duration">How long to hold the answer back; zero or more.</param>
    /// <returns>The fault.</returns>
    public static DnsFault Delay(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return new(DnsFaultKind.Delay) { Duration = duration };
    }

    /// <summary>Creates a fault that answers with <paramref name="responseCode"/>, the question, and no records.</summary>
    /// <param name="responseCode">The response code, for example <see cref="DnsResponseCode.NotImp"/>.</param>
    /// <returns>The fault.</returns>
    public static DnsFault WithResponseCode(DnsResponseCode responseCode)
    {
        if ((ushort)responseCode > 15)
        {
            throw new ArgumentOutOfRangeException(nameof(responseCode), responseCode, "Only the 4-bit header response codes (0 to 15) are supported.");
        }

        return new(DnsFaultKind.ResponseCode) { ResponseCode = responseCode };
    }

    /// <summary>Creates a fault that answers SERVFAIL, as a resolver does when its upstream fails.</summary>
    /// <returns>The fault.</returns>
    public static DnsFault ServFail() => WithResponseCode(DnsResponseCode.ServFail);

    /// <summary>Creates a fault that answers REFUSED.</summary>
    /// <returns>The fault.</returns>
    public static DnsFault Refused() => WithResponseCode(DnsResponseCode.Refused);

    /// <summary>
    /// Creates a fault that answers UDP queries with TC=1 and no records, so that the client must ask again over TCP.
    /// </summary>
    /// <remarks>TCP queries are answered normally and do not use up the fault's count.</remarks>
    /// <returns>The fault.</returns>
    public static DnsFault Truncate() => new(DnsFaultKind.Truncate);

    /// <summary>Creates a fault that sends the normal answer with a different message ID, and nothing else.</summary>
    /// <returns>The fault.</returns>
    public static DnsFault WrongId() => new(DnsFaultKind.WrongId);

    /// <summary>Creates a fault that sends the normal answer with the question name prefixed by a <c>mismatch</c> label, and nothing else.</summary>
    /// <returns>The fault.</returns>
    public static DnsFault WrongQuestion() => new(DnsFaultKind.WrongQuestion);

    /// <summary>Creates a fault that sends an unparseable reply with the right ID and question.</summary>
    /// <param name="malformation">How the reply is broken.</param>
    /// <returns>The fault.</returns>
    public static DnsFault Malformed(DnsMalformation malformation = DnsMalformation.CountTooLarge)
    {
        if (!Enum.IsDefined(malformation))
        {
            throw new ArgumentOutOfRangeException(nameof(malformation), malformation, "Unknown malformation.");
        }

        return new(DnsFaultKind.Malformed) { Malformation = malformation };
    }

    /// <summary>Creates a fault that sends <paramref name="reply"/> as the reply.</summary>
    /// <param name="reply">The bytes to send (over TCP, the server adds the length prefix). They are copied.</param>
    /// <param name="replaceId">Whether to overwrite the first two bytes with the query's ID, so that the reply gets past ID matching.</param>
    /// <returns>The fault.</returns>
    public static DnsFault RawReply(ReadOnlySpan<byte> reply, bool replaceId = true)
    {
        if (reply.Length > ushort.MaxValue)
        {
            throw new ArgumentException("A DNS message holds at most 65,535 bytes.", nameof(reply));
        }

        return new(DnsFaultKind.RawReply) { ReplyBytes = reply.ToArray(), ReplaceId = replaceId };
    }

    /// <summary>Creates a fault that first sends a bogus NXDOMAIN reply, then the normal answer.</summary>
    /// <remarks>
    /// A client that validates the reply's ID and source discards the bogus one and gets the right answer; a client
    /// that does not sees a negative answer.
    /// </remarks>
    /// <param name="spoofing">How the bogus reply gives itself away; at least one flag.</param>
    /// <returns>The fault.</returns>
    public static DnsFault SpoofFirst(DnsSpoofing spoofing = DnsSpoofing.WrongId)
    {
        if ((spoofing & (DnsSpoofing.WrongId | DnsSpoofing.OtherSourcePort)) == 0 || (spoofing & ~(DnsSpoofing.WrongId | DnsSpoofing.OtherSourcePort)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(spoofing), spoofing, "Name at least one way the bogus reply differs; an identical reply would be a genuine answer.");
        }

        return new(DnsFaultKind.SpoofFirst) { Spoofing = spoofing };
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        DnsFaultKind.Delay => string.Create(CultureInfo.InvariantCulture, $"Delay({Duration})"),
        DnsFaultKind.ResponseCode => $"ResponseCode({ResponseCode})",
        DnsFaultKind.Malformed => $"Malformed({Malformation})",
        DnsFaultKind.RawReply => string.Create(CultureInfo.InvariantCulture, $"RawReply({ReplyBytes.Length} bytes)"),
        DnsFaultKind.SpoofFirst => $"SpoofFirst({Spoofing})",
        _ => Kind.ToString(),
    };
}
