using System.Net.Sockets;

namespace CloudMapDiscovery.Http;

/// <summary>What a failed attempt means for retrying and for the endpoint's health.</summary>
internal enum FailureKind
{
    /// <summary>The caller cancelled (or HttpClient.Timeout fired): never retried, never held against the endpoint.</summary>
    Cancelled,

    /// <summary>The connection could not be made: nothing was sent, so any request may go elsewhere.</summary>
    Connect,

    /// <summary>The TLS handshake failed: nothing was sent, so any request may go elsewhere, but the task accepts connections, so a connect proves nothing about it.</summary>
    Tls,

    /// <summary>The connection broke after the request may have been sent.</summary>
    AfterSend,

    /// <summary>Anything else (a bug, bad input): passed through as is.</summary>
    Other,
}

internal static class FailureClassifier
{
    public static FailureKind Classify(Exception ex, CancellationToken callerToken)
    {
        if (callerToken.IsCancellationRequested)
        {
            return FailureKind.Cancelled;
        }

        switch (ex)
        {
            // A TLS handshake that failed (a certificate for another name, a task that does not speak TLS) sent nothing,
            // but it is not a dead address either: told apart, so that a connect does not re-admit the task.
            case HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError }:
                return FailureKind.Tls;
            case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }:
                return FailureKind.Connect;

            // The request's own content failed (a stream body that was already read, by an outer retry say): not the
            // task's fault, and no other address would fare better.
            case HttpRequestException { InnerException: InvalidOperationException or ObjectDisposedException or NotSupportedException }:
                return FailureKind.Other;
            case HttpRequestException { InnerException: SocketException s } when IsConnectError(s.SocketErrorCode):
                return FailureKind.Connect;
            case HttpRequestException:
                return FailureKind.AfterSend;

            // SocketsHttpHandler reports its own ConnectTimeout as a cancellation the caller did not ask for, with a
            // TimeoutException inside. Any other cancellation from below (a per-try timeout handler, say) may have
            // come after the request was sent.
            case OperationCanceledException { InnerException: TimeoutException }:
                return FailureKind.Connect;
            case OperationCanceledException:
                return FailureKind.AfterSend;
            default:
                return FailureKind.Other;
        }
    }

    public static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null && inner is HttpRequestException or OperationCanceledException)
        {
            inner = inner.InnerException;
        }

        return inner switch
        {
            SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
            SocketException { SocketErrorCode: SocketError.TimedOut } => "connect timed out",
            SocketException s => s.SocketErrorCode.ToString(),
            TimeoutException => "connect timed out",
            OperationCanceledException => "cancelled",
            _ => inner.Message.TrimEnd('.'),
        };
    }

    private static bool IsConnectError(SocketError e)
        => e is SocketError.ConnectionRefused or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.AddressNotAvailable;
}
