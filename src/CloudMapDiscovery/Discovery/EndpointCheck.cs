using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace CloudMapDiscovery.Discovery;

/// <summary>One check of whether a task address takes requests: a TCP connect, or an HTTP GET of a health path that must answer 2xx, within a timeout.</summary>
/// <remarks>
/// The GET carries the service's name as Host (and as the TLS name, so the certificate is checked against it) and goes
/// through a handler of its own: a check never shares a connection with requests, and follows no redirect and no proxy.
/// Used by the balancer's probes and by the Microsoft.Extensions.ServiceDiscovery provider's background checks: it lives in
/// Discovery, beside the addresses it checks, so that both can use it.
/// </remarks>
internal sealed class EndpointCheck : IDisposable
{
    private readonly string _scheme;
    private readonly string? _path;
    private readonly string _host;
    private readonly TimeProvider _clock;
    private readonly HttpMessageInvoker? _invoker;

    /// <param name="host">The service's name: the Host header and TLS name of a health GET.</param>
    /// <param name="scheme">The requests' scheme, for a health GET.</param>
    /// <param name="path">The health path; <see langword="null"/> for a TCP connect.</param>
    /// <param name="timeout">How long a check may take.</param>
    /// <param name="clock">The clock of the timeout.</param>
    /// <param name="certificateValidation">Replaces the system's certificate check of a health GET over https (tests trust their own certificate with it); the default checks the chain and the service's name.</param>
    public EndpointCheck(string host, string scheme, string? path, TimeSpan timeout, TimeProvider clock, RemoteCertificateValidationCallback? certificateValidation = null)
    {
        _host = host;
        _scheme = scheme;
        _path = path;
        Timeout = timeout;
        _clock = clock;
        if (path is not null)
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectTimeout = timeout,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            };
            handler.SslOptions.TargetHost = host;
            handler.SslOptions.RemoteCertificateValidationCallback = certificateValidation;
            _invoker = new HttpMessageInvoker(handler);
        }
    }

    public TimeSpan Timeout { get; }

    /// <summary>What a check of <paramref name="target"/> does, for logs.</summary>
    public string Describe(IPEndPoint target)
        => _path is null ? $"connecting to {target}" : string.Create(CultureInfo.InvariantCulture, $"GET {_scheme}://{target}{_path}");

    /// <summary>One check; <see langword="null"/> when it passed, else what went wrong. Never throws.</summary>
    public Task<string?> RunAsync(IPEndPoint target, CancellationToken stopped, CancellationToken shutdown)
        => _invoker is null ? ConnectAsync(target, stopped, shutdown) : GetAsync(_invoker, target, stopped, shutdown);

    public void Dispose() => _invoker?.Dispose();

    private async Task<string?> ConnectAsync(IPEndPoint target, CancellationToken stopped, CancellationToken shutdown)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = new CancellationTokenSource(Timeout, _clock);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopped, shutdown);
            using var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(target, stop.Token).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return $"connect timed out after {Timeout.TotalMilliseconds:0} ms";
            }
        }
        catch (OperationCanceledException)
        {
            return "stopped";
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : ex.SocketErrorCode.ToString();
        }
#pragma warning disable CA1031 // a check that breaks in an unexpected way counts as failed; it must not take the process down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return $"{ex.GetType().Name}: {ex.Message} after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms";
        }
    }

    private async Task<string?> GetAsync(HttpMessageInvoker invoker, IPEndPoint target, CancellationToken stopped, CancellationToken shutdown)
    {
        using var timeout = new CancellationTokenSource(Timeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopped, shutdown);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(string.Create(CultureInfo.InvariantCulture, $"{_scheme}://{target}{_path}"), UriKind.Absolute));
        request.Headers.Host = _host;
        try
        {
            using var response = await invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300 ? null : string.Create(CultureInfo.InvariantCulture, $"{_path} answered {status}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{_path} did not answer within {Timeout.TotalMilliseconds:0} ms");
        }
        catch (OperationCanceledException)
        {
            return "stopped";
        }
        catch (HttpRequestException ex)
        {
            return $"{_path} failed: {ex.HttpRequestError}";
        }
    }
}
