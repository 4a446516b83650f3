using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>
/// The sockets of one run of the server: UDP and TCP on the same port, plus a second UDP socket that spoofed replies
/// come from.
/// </summary>
/// <remarks>
/// Every background task is tracked and swallows its own errors, so that <see cref="StopAsync"/> can wait for all of
/// them and nothing is left unobserved.
/// </remarks>
internal sealed partial class DnsListener : IAsyncDisposable
{
    private const int PortAttempts = 20;

    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly Socket _spoof;
    private readonly QueryProcessor _processor;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _pending = new();
    private Task _udpLoop = Task.CompletedTask;
    private Task _tcpLoop = Task.CompletedTask;

    private DnsListener(Socket udp, Socket tcp, Socket spoof, QueryProcessor processor, TimeProvider time, ILogger logger)
    {
        _udp = udp;
        _tcp = tcp;
        _spoof = spoof;
        _processor = processor;
        _time = time;
        _logger = logger;
        EndPoint = (IPEndPoint)udp.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Binds UDP and TCP to one port; with port 0, tries ephemeral UDP ports until TCP can have the same one.</summary>
    public static DnsListener Start(IPAddress address, int port, QueryProcessor processor, TimeProvider time, ILogger logger)
    {
        for (var attempt = 1; ; attempt++)
        {
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            Socket? tcp = null;
            Socket? spoof = null;
            try
            {
                udp.Bind(new IPEndPoint(address, port));
                var bound = ((IPEndPoint)udp.LocalEndPoint!).Port;
                tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

                // No ReuseAddress: on Linux .NET maps it to SO_REUSEPORT too, which would let two servers share
                // a port. .NET already lets a TCP listener rebind over TIME_WAIT, which is all Restart needs.
                tcp.Bind(new IPEndPoint(address, bound));
                tcp.Listen(64);
                spoof = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                spoof.Bind(new IPEndPoint(address, 0));
                var listener = new DnsListener(udp, tcp, spoof, processor, time, logger);
                listener.Run();
                return listener;
            }
            catch (SocketException ex) when (port == 0 && attempt < PortAttempts && ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                udp.Dispose();
                tcp?.Dispose();
                spoof?.Dispose();
            }
            catch
            {
                udp.Dispose();
                tcp?.Dispose();
                spoof?.Dispose();
                throw;
            }
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);

        // Closing the sockets is what clients observe: ICMP port unreachable for UDP, RST for TCP.
        _udp.Dispose();
        _tcp.Dispose();
        _spoof.Dispose();
        await _udpLoop.ConfigureAwait(false);
        await _tcpLoop.ConfigureAwait(false);
        await Task.WhenAll(_pending.Keys).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private void Run()
    {
        _udpLoop = Task.Run(() => ReceiveUdpAsync(_stopping.Token));
        _tcpLoop = Task.Run(() => AcceptTcpAsync(_stopping.Token));
    }

    private void Track(Task task)
    {
        _pending.TryAdd(task, 0);
        _ = task.ContinueWith(t => _pending.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task ReceiveUdpAsync(CancellationToken stopping)
    {
        var buffer = new byte[ushort.MaxValue];
        EndPoint anyRemote = new IPEndPoint(_udp.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, anyRemote, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Some platforms report an earlier reply's ICMP error here; the socket is still good.
                LogSocketError(_logger, "UDP receive", ex.SocketErrorCode);
                continue;
            }

            var plan = Process(buffer.AsSpan(0, received.ReceivedBytes), tcp: false, received.RemoteEndPoint);
            if (plan.Replies.Count == 0)
            {
                continue;
            }

            // Delayed replies must not hold up other queries; everything else is sent in arrival order,
            // which keeps tests of drops and spoofs deterministic.
            if (plan.Delay > TimeSpan.Zero)
            {
                Track(SendUdpLaterAsync(plan, received.RemoteEndPoint, stopping));
            }
            else
            {
                await SendUdpAsync(plan, received.RemoteEndPoint, stopping).ConfigureAwait(false);
            }
        }
    }

    private async Task SendUdpLaterAsync(ReplyPlan plan, EndPoint remote, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(plan.Delay, _time, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await SendUdpAsync(plan, remote, stopping).ConfigureAwait(false);
    }

    private async Task SendUdpAsync(ReplyPlan plan, EndPoint remote, CancellationToken stopping)
    {
        foreach (var reply in plan.Replies)
        {
            try
            {
                await (reply.FromOtherPort ? _spoof : _udp).SendToAsync(reply.Bytes, SocketFlags.None, remote, stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }

    private async Task AcceptTcpAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                LogSocketError(_logger, "TCP accept", ex.SocketErrorCode);
                continue;
            }

            Track(ServeConnectionAsync(client, stopping));
        }
    }

    private async Task ServeConnectionAsync(Socket client, CancellationToken stopping)
    {
        using (client)
        {
            var remote = client.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0);
            var stream = new NetworkStream(client, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                var prefix = new byte[2];
                try
                {
                    // RFC 7766: several queries may share one connection; each is length-prefixed.
                    while (true)
                    {
                        if (!await ReadExactlyOrEndAsync(stream, prefix, stopping).ConfigureAwait(false))
                        {
                            return;
                        }

                        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                        if (!await ReadExactlyOrEndAsync(stream, message, stopping).ConfigureAwait(false))
                        {
                            return;
                        }

                        var plan = Process(message, tcp: true, remote);
                        if (plan.Delay > TimeSpan.Zero)
                        {
                            await Task.Delay(plan.Delay, _time, stopping).ConfigureAwait(false);
                        }

                        foreach (var reply in plan.Replies)
                        {
                            var framed = new byte[reply.Bytes.Length + 2];
                            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)reply.Bytes.Length);
                            reply.Bytes.CopyTo(framed, 2);
                            await stream.WriteAsync(framed, stopping).ConfigureAwait(false);
                        }
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or IOException or SocketException)
                {
                    // The client went away or the server is stopping; either way this connection is done.
                }
            }
        }
    }

    private static async Task<bool> ReadExactlyOrEndAsync(NetworkStream stream, byte[] buffer, CancellationToken stopping)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, stopping).ConfigureAwait(false);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    private ReplyPlan Process(ReadOnlySpan<byte> message, bool tcp, EndPoint remote)
    {
        try
        {
            return _processor.Process(message, tcp, remote);
        }
#pragma warning disable CA1031 // A test server must survive any input; the failure is logged, the query dropped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogProcessingFailed(_logger, ex, remote);
            return ReplyPlan.None;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} failed: {Error}")]
    private static partial void LogSocketError(ILogger logger, string operation, SocketError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Failed to process a message from {Remote}")]
    private static partial void LogProcessingFailed(ILogger logger, Exception exception, EndPoint remote);
}
