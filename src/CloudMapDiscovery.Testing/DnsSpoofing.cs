namespace CloudMapDiscovery.Testing;

/// <summary>How the bogus reply of a <see cref="DnsFaultKind.SpoofFirst"/> fault gives itself away to a client that validates replies.</summary>
[Flags]
public enum DnsSpoofing
{
    /// <summary>The bogus reply carries a different message ID.</summary>
    WrongId = 1,

    /// <summary>The bogus reply comes from another UDP socket, so its source port is not the server's.</summary>
    /// <remarks>Over TCP this cannot be done; there the bogus reply always carries a different message ID.</remarks>
    OtherSourcePort = 2,
}
