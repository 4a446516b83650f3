using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Http;

/// <summary>
/// The HTTP routing cache of one endpoint: its <c>scheme://address:port</c> prefix and its last rewritten URI.
/// </summary>
/// <remarks>
/// Kept in the endpoint's <see cref="BalancedEndpoint.RouteCache"/> slot, so the hot path finds it without a lookup,
/// and it lives and dies with the endpoint.
/// </remarks>
internal sealed class EndpointUriCache
{
    private readonly string _hostText;
    private readonly int? _port;
    private UriPrefix? _prefix;
    private Rewritten? _lastRewrite;

    private EndpointUriCache(BalancedEndpoint endpoint)
    {
        _hostText = endpoint.Address.HostText;
        _port = endpoint.Address.Port;
    }

    /// <summary>The route of <paramref name="endpoint"/>, made on first use (two threads racing make two; either is right).</summary>
    public static EndpointUriCache Of(BalancedEndpoint endpoint)
    {
        if (endpoint.RouteCache is EndpointUriCache route)
        {
            return route;
        }

        route = new EndpointUriCache(endpoint);
        endpoint.RouteCache = route;
        return route;
    }

    /// <summary>The request URI rewritten to this endpoint.</summary>
    /// <remarks>
    /// Calls to a service mostly repeat a few paths, so the last rewrite is kept and handed out again when the scheme,
    /// port, path, query and fragment are the same: a <see cref="Uri"/> is immutable and safe to share between
    /// requests, and parsing one is the costliest step of a request through the handler.
    /// </remarks>
    public Uri Rewrite(Uri original)
    {
        var scheme = original.Scheme;
        var port = _port ?? original.Port;
        var pathAndQuery = original.PathAndQuery;
        var fragment = original.Fragment;
        var last = Volatile.Read(ref _lastRewrite);
        if (last is not null && last.Port == port && ReferenceEquals(last.Scheme, scheme)
            && string.Equals(last.PathAndQuery, pathAndQuery, StringComparison.Ordinal)
            && string.Equals(last.Fragment, fragment, StringComparison.Ordinal))
        {
            return last.Uri;
        }

        var uri = new Uri(GetUriPrefix(scheme, port) + pathAndQuery + fragment);
        Volatile.Write(ref _lastRewrite, new Rewritten(scheme, port, pathAndQuery, fragment, uri));
        return uri;
    }

    /// <summary>The URI prefix <c>scheme://address:port</c>, cached for the last scheme and port used.</summary>
    public string GetUriPrefix(string scheme, int port)
    {
        var p = Volatile.Read(ref _prefix);
        if (p is not null && p.Port == port && ReferenceEquals(p.Scheme, scheme))
        {
            return p.Text;
        }

        p = new UriPrefix(scheme, port, $"{scheme}://{_hostText}:{port}");
        Volatile.Write(ref _prefix, p);
        return p.Text;
    }

    private sealed record UriPrefix(string Scheme, int Port, string Text);

    private sealed record Rewritten(string Scheme, int Port, string PathAndQuery, string Fragment, Uri Uri);
}
