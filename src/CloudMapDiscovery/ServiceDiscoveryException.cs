namespace CloudMapDiscovery;

/// <summary>
/// No endpoint could be found for a host: DNS says no instances are registered, or DNS failed and no usable earlier
/// answer exists.
/// </summary>
/// <remarks>The message says which, for which host, and what DNS said. The Cloud Map API source derives its errors from it.</remarks>
public class ServiceDiscoveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="host">The host name that was being discovered.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The DNS error, if any.</param>
    public ServiceDiscoveryException(string host, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Host = host;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    /// <param name="message">What went wrong.</param>
    public ServiceDiscoveryException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ServiceDiscoveryException(string message, Exception? innerException)
        : this(string.Empty, message, innerException)
    {
    }

    /// <summary>Creates the exception with no details.</summary>
    public ServiceDiscoveryException()
        : this("Service discovery failed.")
    {
    }

    /// <summary>Gets the host name that was being discovered.</summary>
    public string Host { get; }

    /// <summary>Gets a value indicating whether DNS answered that the name has no instances (NXDOMAIN or NODATA), rather than failing.</summary>
    public bool NoInstances { get; init; }
}
