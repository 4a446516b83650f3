namespace CloudMapDiscovery.Dns;

/// <summary>A DNS message is malformed: truncated, with a count larger than its content, a bad name compression pointer, or a bad record.</summary>
internal sealed class DnsFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="offset">The byte offset in the message where the problem was found.</param>
    public DnsFormatException(string message, int offset)
        : base($"Malformed DNS message at byte {offset}: {message}")
    {
        Offset = offset;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    /// <param name="message">What is wrong.</param>
    public DnsFormatException(string message)
        : base(message)
    {
        Offset = -1;
    }

    /// <summary>Creates the exception with a message of its own and its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DnsFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Offset = -1;
    }

    /// <summary>Creates the exception with no details.</summary>
    public DnsFormatException()
        : this("Malformed DNS message.")
    {
    }

    /// <summary>Gets the byte offset where the problem was found, or -1 when unknown.</summary>
    public int Offset { get; }
}
