namespace CloudMapDiscovery.Dns;

/// <summary>A DNS message is malformed: truncated, with a count larger than its content, a bad name compression pointer, or a bad record.</summary>
internal sealed class DnsFormatException : Exception
{
    /// <summary>Creates the exception for a problem found at byte <paramref name="offset"/> of the message.</summary>
    public DnsFormatException(string message, int offset)
        : base($"Malformed DNS message at byte {offset}: {message}")
    {
        Offset = offset;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    public DnsFormatException(string message)
        : base(message)
    {
        Offset = -1;
    }

    /// <summary>Gets the byte offset where the problem was found, or -1 when unknown.</summary>
    public int Offset { get; }
}
