using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.DependencyInjection;

/// <summary>Each client's settings, read from its options once, when its first handler is built, and kept for the life of the service provider.</summary>
/// <remarks>
/// IHttpClientFactory builds a client's handler again every handler lifetime (2 minutes by default). Were the options
/// read at each build, a configuration reload followed by the options monitor would move a client to other settings,
/// and so to another cache and another view of endpoint health, at a time nobody chose, leaving the old cache to idle
/// out. Reading once gives a client one behaviour from its first request to shutdown; a restart applies new options.
/// </remarks>
internal sealed class ClientSettingsStore
{
    private readonly ConcurrentDictionary<string, CloudMapSettings> _settings = new(StringComparer.Ordinal);
    private readonly IOptionsMonitor<CloudMapDiscoveryOptions> _options;

    public ClientSettingsStore(IOptionsMonitor<CloudMapDiscoveryOptions> options)
    {
        _options = options;
    }

    public CloudMapSettings For(string? name)
        => _settings.GetOrAdd(name ?? Options.DefaultName, static (key, options) => CloudMapSettings.From(options.Get(key)), _options);
}
