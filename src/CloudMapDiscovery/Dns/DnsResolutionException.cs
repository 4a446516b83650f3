using System.Globalization;

namespace CloudMapDiscovery.Dns;

/// <summary>No name server produced an answer (every attempt timed out, failed or was refused).</summary>
/// <remarks>The message names the host, the record type and every server tried with what happened there.</remarks>
public sealed class DnsResolutionException : Exception
{
    /// <summary>Creates the exception for a failed question.</summary>
    /// <param name="name">The name that was asked.</param>
    /// <param name="type">The record type that was asked.</param>
    /// <param name="attempts">Every exchange that failed, in order.</param>
    public DnsResolutionException(string name, DnsRecordType type, IReadOnlyList<DnsServerAttempt> attempts)
        : base(BuildMessage(name, type, attempts))
    {
        Name = name;
        Type = type;
        Attempts = attempts;
    }

    /// <summary>Creates the exception for a failed question with a message of its own (when no exchange says it all).</summary>
    internal DnsResolutionException(string name, DnsRecordType type, IReadOnlyList<DnsServerAttempt> attempts, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Name = name;
        Type = type;
        Attempts = attempts;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    /// <param name="message">What went wrong.</param>
    public DnsResolutionException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with a message of its own and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DnsResolutionException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Name = string.Empty;
        Attempts = [];
    }

    /// <summary>Creates the exception with no details (for serialisers and mocks).</summary>
    public DnsResolutionException()
        : this("DNS resolution failed.")
    {
    }

    /// <summary>Gets the name that was asked.</summary>
    public string Name { get; }

    /// <summary>Gets the record type that was asked.</summary>
    public DnsRecordType Type { get; }

    /// <summary>Gets every exchange that failed, in order.</summary>
    public IReadOnlyList<DnsServerAttempt> Attempts { get; }

    private static string BuildMessage(string name, DnsRecordType type, IReadOnlyList<DnsServerAttempt> attempts)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        if (attempts.Count == 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"DNS lookup of {name} ({type}) failed: no name server was tried.");
        }

        // Group repeats so that "2 attempts" reads like the resolver's own retry policy.
        var parts = attempts
            .GroupBy(a => (a.Server, a.Transport, a.Outcome))
            .Select(g =>
            {
                var first = g.First();
                var count = g.Count();
                return count == 1 ? first.ToString() : string.Create(CultureInfo.InvariantCulture, $"{first} (x{count})");
            });
        return string.Create(CultureInfo.InvariantCulture, $"DNS lookup of {name} ({type}) failed: {string.Join("; ", parts)}.");
    }
}
