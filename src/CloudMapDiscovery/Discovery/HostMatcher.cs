namespace CloudMapDiscovery.Discovery;

/// <summary>Decides which hosts are discovered, and the service name each stands for.</summary>
/// <remarks>
/// IP literals and <c>localhost</c> never are; with <see cref="TargetingSettings.HostSuffixes"/> only names inside
/// them are; a short name gets <see cref="TargetingSettings.ServiceDiscoveryDomain"/>. The HTTP handler and the
/// Microsoft.Extensions.ServiceDiscovery provider apply the same rules through it.
/// </remarks>
internal sealed class HostMatcher
{
    private readonly string[] _suffixes;
    private readonly string? _domain;

    public HostMatcher(TargetingSettings settings)
    {
        _suffixes = [.. settings.HostSuffixes.Select(s => "." + s.Trim().Trim('.').ToLowerInvariant())];
        RecordTypes = settings.RecordTypes;
        _domain = string.IsNullOrWhiteSpace(settings.ServiceDiscoveryDomain) ? null : settings.ServiceDiscoveryDomain.Trim().Trim('.').ToLowerInvariant();
    }

    /// <summary>Which records name a matched host's endpoints.</summary>
    public DiscoveryRecordTypes RecordTypes { get; }

    /// <summary>The name to discover for <paramref name="uri"/>, or <see langword="null"/> to leave it alone.</summary>
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
