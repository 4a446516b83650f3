namespace CloudMapDiscovery.Testing;

/// <summary>How a <see cref="DnsFaultKind.Malformed"/> reply is broken.</summary>
/// <remarks>
/// Every variant keeps the query's ID and question so that a client gets past its matching checks and into its parser.
/// </remarks>
public enum DnsMalformation
{
    /// <summary>The header announces more answer records than the message holds.</summary>
    CountTooLarge,

    /// <summary>The answer's owner name is a compression pointer to itself.</summary>
    CompressionLoop,

    /// <summary>The answer's owner name is a compression pointer past the end of the message.</summary>
    PointerOutOfRange,

    /// <summary>The answer's RDLENGTH runs past the end of the message.</summary>
    TruncatedRecord,
}
