using System.Globalization;
using System.Net;

namespace CloudMapDiscovery.Balancing;

/// <summary>An HTTP GET of a service's health-check path on one address, which must answer 2xx in time.</summary>
/// <remarks>
/// Sent with the service's name as Host (and as the TLS name, so the certificate is checked against it), on a handler
/// of its own: a probe never shares a connection with requests, and follows no redirect and no proxy.
/// </remarks>
internal sealed class HealthCheck : IDisposable
{
    private readonly string _host;
    private readonly string _scheme;
    private readonly string _path;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private readonly HttpMessageInvoker _invoker;

    public HealthCheck(string host, string scheme, string path, TimeSpan timeout, TimeProvider clock)
    {
        _host = host;
        _scheme = scheme;
        _path = path;
        _timeout = timeout;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        handler.SslOptions.TargetHost = host;
        _invoker = new HttpMessageInvoker(handler);
    }

    public string Describe(IPEndPoint target) => string.Create(CultureInfo.InvariantCulture, $"GET {_scheme}://{target}{_path}");

    /// <summary>One check; <see langword="null"/> when it answered 2xx, else what went wrong.</summary>
    public async Task<string?> CheckAsync(IPEndPoint target, CancellationToken stopped, CancellationToken shutdown)
    {
        using var timeout = new CancellationTokenSource(_timeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopped, shutdown);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Describe(target)[4..], UriKind.Absolute));
        request.Headers.Host = _host;
        try
        {
            using var response = await _invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 300 ? null : string.Create(CultureInfo.InvariantCulture, $"{_path} answered {status}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{_path} did not answer within {_timeout.TotalMilliseconds:0} ms");
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

    public void Dispose() => _invoker.Dispose();
}
