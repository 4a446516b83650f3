using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>One HTTP/1.1 request as read off the wire: method, path, headers (case-insensitive) and body.</summary>
internal sealed record HttpRequestData(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>One HTTP/1.1 reply: status, content type, body, and any extra headers.</summary>
internal sealed record HttpReplyData(int Status, string Reason, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>A minimal HTTP/1.1 server on a loopback socket: keep-alive, Content-Length bodies, one handler.</summary>
/// <remarks>Enough for an AWS JSON protocol endpoint: every request is a POST with a Content-Length body.</remarks>
internal sealed class HttpExchange : IAsyncDisposable
{
    private const int MaxHeaderBytes = 64 * 1024;
    private const int MaxBodyBytes = 4 * 1024 * 1024;
    private readonly TcpListener _listener;
    private readonly Func<HttpRequestData, CancellationToken, Task<HttpReplyData>> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;

    public HttpExchange(IPAddress address, int port, Func<HttpRequestData, CancellationToken, Task<HttpReplyData>> handler)
    {
        _handler = handler;
        _listener = new TcpListener(address, port);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = Task.Run(AcceptAsync);
    }

    public IPEndPoint EndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }

        try
        {
            await Task.WhenAll([_accepting, .. running]).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(Task.Run(() => ServeAsync(client)));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        client.NoDelay = true; // a reply is written as head then body: with Nagle's algorithm each call would wait out a delayed ACK (40 ms)
        var stream = client.GetStream();
        var buffer = new List<byte>(4096);
        var chunk = new byte[16 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var request = await ReadRequestAsync(stream, buffer, chunk).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }

                var reply = await _handler(request, _stop.Token).ConfigureAwait(false);
                await WriteAsync(stream, reply).ConfigureAwait(false);
                if (request.Headers.TryGetValue("Connection", out var connection) && connection.Equals("close", StringComparison.OrdinalIgnoreCase))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or FormatException)
        {
            // The client went away, the server stops, or the request was not HTTP: the connection ends.
        }
    }

    private async Task<HttpRequestData?> ReadRequestAsync(NetworkStream stream, List<byte> buffer, byte[] chunk)
    {
        int end;
        while ((end = HeaderEnd(buffer)) < 0)
        {
            if (buffer.Count > MaxHeaderBytes)
            {
                throw new FormatException("Header too large.");
            }

            var read = await stream.ReadAsync(chunk, _stop.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            buffer.AddRange(chunk.AsSpan(0, read));
        }

        var head = Encoding.ASCII.GetString([.. buffer.GetRange(0, end)]).Split("\r\n");
        buffer.RemoveRange(0, end + 4);
        var line = head[0].Split(' ');
        if (line.Length < 3)
        {
            throw new FormatException("Bad request line.");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in head.Skip(1))
        {
            var colon = header.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[header[..colon].Trim()] = header[(colon + 1)..].Trim();
            }
        }

        var length = headers.TryGetValue("Content-Length", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        if (length is < 0 or > MaxBodyBytes)
        {
            throw new FormatException("Bad Content-Length.");
        }

        while (buffer.Count < length)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            buffer.AddRange(chunk.AsSpan(0, read));
        }

        var body = buffer.GetRange(0, length).ToArray();
        buffer.RemoveRange(0, length);
        return new HttpRequestData(line[0], line[1], headers, body);
    }

    private static int HeaderEnd(List<byte> buffer)
    {
        for (var i = 3; i < buffer.Count; i++)
        {
            if (buffer[i] == '\n' && buffer[i - 1] == '\r' && buffer[i - 2] == '\n' && buffer[i - 3] == '\r')
            {
                return i - 3;
            }
        }

        return -1;
    }

    private async Task WriteAsync(NetworkStream stream, HttpReplyData reply)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {reply.Status} {reply.Reason}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {reply.Body.Length}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTimeOffset.UtcNow:r}\r\n");
        foreach (var (name, value) in reply.Headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), _stop.Token).ConfigureAwait(false);
        await stream.WriteAsync(reply.Body, _stop.Token).ConfigureAwait(false);
    }
}
