namespace CloudMapDiscovery.Http;

/// <summary>Decides which request hosts go through discovery, and expands short names.</summary>
internal sealed class HostMatcher
{
    private readonly string[] _suffixes;
    private readonly string? _domain;

    public HostMatcher(HttpSettings settings)
    {
        _suffixes = [.. settings.HostSuffixes.Select(s => "." + s.Trim().Trim('.').ToLowerInvariant())];
        _domain = string.IsNullOrWhiteSpace(settings.ServiceDiscoveryDomain) ? null : settings.ServiceDiscoveryDomain.Trim().Trim('.').ToLowerInvariant();
    }

    /// <summary>The name to discover for <paramref name="uri"/>, or <see langword="null"/> to pass the request through untouched.</summary>
    public string? Match(Uri uri)
    {
        if (uri.HostNameType != UriHostNameType.Dns)
        {
            return null; // IP literals (and anything odd) go as written
        }

        var host = uri.IdnHost;
        if (host.EndsWith('.'))
        {
            host = host[..^1];
        }

        if (host.Length == 0 || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        // Copilot's short names: http://api means api.<COPILOT_SERVICE_DISCOVERY_ENDPOINT>.
        if (_domain is not null && !host.Contains('.', StringComparison.Ordinal))
        {
            host = host + "." + _domain;
        }

        if (_suffixes.Length == 0)
        {
            return host.ToLowerInvariant();
        }

        foreach (var suffix in _suffixes)
        {
            if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return host.ToLowerInvariant();
            }
        }

        return null;
    }
}
