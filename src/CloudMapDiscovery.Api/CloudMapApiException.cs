using System.Net;

namespace CloudMapDiscovery.Api;

/// <summary>A call to the Cloud Map API failed: it names the operation, the AWS error code and the HTTP status.</summary>
/// <remarks>
/// The message never holds credentials, a session token or a signature. Requests see it as the inner exception of
/// the <see cref="ServiceDiscoveryException"/> that names their host.
/// </remarks>
public class CloudMapApiException : ServiceDiscoveryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="operation">The operation called (<c>DiscoverInstances</c> or <c>DiscoverInstancesRevision</c>).</param>
    /// <param name="errorCode">AWS's error code, or a code of ours for a failure with none (<c>NetworkError</c>, <c>MalformedReply</c>, <c>NoCredentials</c>).</param>
    /// <param name="statusCode">The HTTP status, if a reply came.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public CloudMapApiException(string operation, string errorCode, HttpStatusCode? statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        ErrorCode = errorCode;
        StatusCode = statusCode;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    /// <param name="message">What went wrong.</param>
    public CloudMapApiException(string message)
        : this(string.Empty, "Unknown", null, message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public CloudMapApiException(string message, Exception? innerException)
        : this(string.Empty, "Unknown", null, message, innerException)
    {
    }

    /// <summary>Creates the exception with no details.</summary>
    public CloudMapApiException()
        : this("A Cloud Map API call failed.")
    {
    }

    /// <summary>Gets the operation called.</summary>
    public string Operation { get; }

    /// <summary>Gets AWS's error code (such as <c>ServiceNotFound</c> or <c>RequestLimitExceeded</c>), or ours for a failure without one.</summary>
    public string ErrorCode { get; }

    /// <summary>Gets the HTTP status of the reply, or <see langword="null"/> when none came.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets a value indicating whether AWS throttled the call (<c>RequestLimitExceeded</c>, <c>ThrottlingException</c>, <c>TooManyRequestsException</c>, HTTP 429).</summary>
    public bool IsThrottling => ErrorCode is "RequestLimitExceeded" or "ThrottlingException" or "Throttling" or "TooManyRequestsException" || StatusCode == HttpStatusCode.TooManyRequests;

    /// <summary>Gets a value indicating whether the namespace or the service does not exist (<c>NamespaceNotFound</c>, <c>ServiceNotFound</c>).</summary>
    public bool IsNotFound => ErrorCode is "NamespaceNotFound" or "ServiceNotFound";

    /// <summary>Gets a value indicating whether AWS refused the credentials or the signature (HTTP 403, or no credentials were found).</summary>
    public bool IsAuthorization => StatusCode == HttpStatusCode.Forbidden || ErrorCode is "NoCredentials" or "UnrecognizedClientException" or "InvalidSignatureException"
        or "IncompleteSignatureException" or "MissingAuthenticationTokenException" or "AccessDeniedException" or "ExpiredTokenException" or "SignatureDoesNotMatch";
}
