using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Testing;

/// <summary>
/// Counts the connections a client opens, per task address: use <see cref="CreateHandler"/> as the client's primary
/// handler (<c>ConfigurePrimaryHttpMessageHandler(() => counter.CreateHandler())</c>) to check where requests went,
/// for example that none went to a dead task after it was first found dead.
/// </summary>
public sealed class ConnectCounter
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.OrdinalIgnoreCase);
    private readonly Action<ConnectAttempt>? _observer;

    /// <summary>Creates a counter.</summary>
    /// <param name="observer">Told of every connect attempt once it has succeeded or failed.</param>
    public ConnectCounter(Action<ConnectAttempt>? observer = null)
    {
        _observer = observer;
    }

    /// <summary>Gets the connects attempted to <paramref name="address"/> so far, whether they succeeded or not.</summary>
    /// <param name="address">A task address.</param>
    /// <returns>The number of connect attempts.</returns>
    public int Count(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return _counts.GetValueOrDefault(address.ToString());
    }

    /// <summary>Creates a <see cref="SocketsHttpHandler"/> that counts each connect before it makes it.</summary>
    /// <param name="connectTimeout">The handler's connect timeout; <see langword="null"/> leaves .NET's default.</param>
    /// <returns>A new handler; the caller owns it.</returns>
    public SocketsHttpHandler CreateHandler(TimeSpan? connectTimeout = null)
    {
        var handler = new SocketsHttpHandler { ConnectCallback = ConnectAsync };
        if (connectTimeout is { } timeout)
        {
            handler.ConnectTimeout = timeout;
        }

        return handler;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        _counts.AddOrUpdate(target.Host, 1, static (_, n) => n + 1);
        var started = Stopwatch.GetTimestamp();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(target, cancellationToken).ConfigureAwait(false);
            _observer?.Invoke(new ConnectAttempt(target.Host, target.Port, started, Stopwatch.GetElapsedTime(started), null));
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            _observer?.Invoke(new ConnectAttempt(target.Host, target.Port, started, Stopwatch.GetElapsedTime(started), ex));
            throw;
        }
    }
}

/// <summary>One connect a <see cref="ConnectCounter"/> saw.</summary>
/// <param name="Host">The address connected to, as the request's URI named it.</param>
/// <param name="Port">The port.</param>
/// <param name="StartedAt">When it started, a <see cref="Stopwatch"/> timestamp.</param>
/// <param name="Elapsed">How long it took to succeed or fail.</param>
/// <param name="Error">Why it failed; <see langword="null"/> when it succeeded.</param>
public readonly record struct ConnectAttempt(string Host, int Port, long StartedAt, TimeSpan Elapsed, Exception? Error);
