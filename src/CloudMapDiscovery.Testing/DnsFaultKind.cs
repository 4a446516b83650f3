namespace CloudMapDiscovery.Testing;

/// <summary>What a <see cref="DnsFault"/> does to a query instead of (or before) answering it normally.</summary>
public enum DnsFaultKind
{
    /// <summary>No reply at all, like a datagram lost on the way or a resolver shedding load.</summary>
    Drop,

    /// <summary>The normal answer, sent after <see cref="DnsFault.Duration"/> on the server's <see cref="TimeProvider"/>.</summary>
    Delay,

    /// <summary>A reply with <see cref="DnsFault.ResponseCode"/> (SERVFAIL, REFUSED, ...) and no records.</summary>
    ResponseCode,

    /// <summary>Over UDP, a reply with TC=1 and no records; over TCP the query is answered normally.</summary>
    Truncate,

    /// <summary>The normal answer with a different message ID, which a client must discard.</summary>
    WrongId,

    /// <summary>The normal answer whose question section names a different name, which a client must discard.</summary>
    WrongQuestion,

    /// <summary>A reply with the right ID and question that cannot be parsed; see <see cref="DnsMalformation"/>.</summary>
    Malformed,

    /// <summary>The bytes in <see cref="DnsFault.ReplyBytes"/>, sent as the reply.</summary>
    RawReply,

    /// <summary>A bogus NXDOMAIN reply (see <see cref="DnsSpoofing"/>) followed by the normal answer.</summary>
    SpoofFirst,
}
