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
    private readonly ICloudMapEndpointSourceFactory? _sources;

    public ClientSettingsStore(IOptionsMonitor<CloudMapDiscoveryOptions> options, ICloudMapEndpointSourceFactory? sources = null)
    {
        _options = options;
        _sources = sources;
    }

    public CloudMapSettings For(string? name)
        => _settings.GetOrAdd(name ?? Options.DefaultName, static (key, store) => store.Create(key), this);

    // A client set to the API source gets it from the factory its package registered; without one it fails here, at
    // its first handler, rather than quietly asking DNS.
    private CloudMapSettings Create(string name)
    {
        var settings = CloudMapSettings.From(_options.Get(name));
        if (settings.Source != CloudMapEndpointSourceKind.Api)
        {
            return settings;
        }

        var factory = _sources ?? throw new InvalidOperationException(
            $"CloudMapDiscovery:Source is Api for the client '{name}', but no Cloud Map API source is registered: add the CloudMapDiscovery.Api package and call services.AddCloudMapApi() (or .UseCloudMapApi() on the client builder).");
        return settings with { Discovery = settings.Discovery with { Source = factory.Create(name) } };
    }
}
