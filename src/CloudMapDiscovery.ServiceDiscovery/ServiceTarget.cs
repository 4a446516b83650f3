using System.Globalization;
using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.ServiceDiscovery;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// What a Microsoft.Extensions.ServiceDiscovery query asks this provider for: the DNS name to resolve (after the same
/// host rules as the HTTP handler), the port the query names, and the authority a request would have carried.
/// </summary>
/// <param name="Host">The name to resolve, lower case (a short name expanded with <c>ServiceDiscoveryDomain</c>).</param>
/// <param name="Port">The port written in the query, or 0 when it names none (then the consumer uses its scheme's default).</param>
/// <param name="Authority">The host as the query wrote it, with the port if one was written: the Host header to send.</param>
/// <param name="Query">The query as given (for logs).</param>
/// <param name="Scheme">The scheme of a health check: <c>https</c> when the query's first scheme is https, else <c>http</c>.</param>
internal sealed record ServiceTarget(string Host, int Port, string Authority, string Query, string Scheme = "http")
{
    /// <summary>The port a check dials for an address DNS gives without one: <see cref="Port"/>, or the scheme's default.</summary>
    public int CheckPort => Port != 0 ? Port : Scheme == "https" ? 443 : 80;

    /// <summary>
    /// The target of <paramref name="query"/>, or <see langword="null"/> when the host is not one to discover (an IP
    /// literal, <c>localhost</c>, or outside <c>HostSuffixes</c>): other providers (configuration, pass-through) then
    /// answer for it.
    /// </summary>
    public static ServiceTarget? From(ServiceEndpointQuery query, HostMatcher hosts)
    {
        // The query keeps only the host of what it parsed; the port is read from the text, as the query itself read it:
        // "name.internal:3000" without a scheme, "http://name.internal:3000" (the HTTP handler's form) or "https+http://...".
        var text = query.ToString() ?? string.Empty;
        var parsed = text.Contains("://", StringComparison.Ordinal)
            ? Uri.TryCreate(text, UriKind.Absolute, out var uri)
            : Uri.TryCreate("fakescheme://" + text, UriKind.Absolute, out uri);
        if (!parsed || uri is null || !Uri.TryCreate("fakescheme://" + query.ServiceName, UriKind.Absolute, out var service))
        {
            return null;
        }

        var host = hosts.Match(service);
        if (host is null)
        {
            return null;
        }

        // A port equal to the scheme's default is left out, as a URI leaves it out: 0 makes the consumer use its own
        // scheme's default, which also holds when it picks another scheme of "https+http".
        var port = uri.IsDefaultPort || uri.Port <= 0 ? 0 : uri.Port;
        var authority = port == 0 ? query.ServiceName : string.Create(CultureInfo.InvariantCulture, $"{query.ServiceName}:{port}");
        var scheme = text.StartsWith("https", StringComparison.OrdinalIgnoreCase) && text.Contains("://", StringComparison.Ordinal) ? "https" : "http";
        return new ServiceTarget(host, port, authority, text, scheme);
    }
}
