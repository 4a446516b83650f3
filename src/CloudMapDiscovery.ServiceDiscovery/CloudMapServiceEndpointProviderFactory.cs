using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// Makes a provider for each query whose host is one to discover, by the HTTP handler's rules (not an IP literal or
/// <c>localhost</c>, inside <c>HostSuffixes</c> when set, short names expanded with <c>ServiceDiscoveryDomain</c>).
/// </summary>
/// <remarks>
/// Other queries are left to the providers after it. Reads the unnamed <see cref="CloudMapDiscoveryOptions"/>.
/// </remarks>
internal sealed class CloudMapServiceEndpointProviderFactory : IServiceEndpointProviderFactory
{
    private readonly DiscoveryPartition _cache;
    private readonly HostMatcher _hosts;
    private readonly DiscoveryRecordTypes _recordTypes;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<DiscoveredService, EndpointSetWatch> _watches = new();
    private readonly Func<DiscoveredService, EndpointSetWatch> _watchOf;

    public CloudMapServiceEndpointProviderFactory(DiscoveryRegistry registry, IOptionsMonitor<CloudMapDiscoveryOptions> options, ClientSettingsStore? clients = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);

        // Validated on the way (OptionsValidationException names every bad option), with the same rules as for clients;
        // through the clients' store, so that Source = Api gets the API source here too.
        var settings = clients?.For(Options.DefaultName) ?? CloudMapSettings.From(options.Get(Options.DefaultName));
        _cache = registry.GetCache(settings.Discovery);
        _hosts = new HostMatcher(settings.Targeting);
        _recordTypes = settings.Targeting.RecordTypes;
        _logger = registry.Context.LoggerFactory.CreateLogger("CloudMapDiscovery.ServiceDiscovery");

        // One watch per service object: the table lets a retired service and its watch be collected together.
        _watchOf = service => _watches.GetValue(service, s => new EndpointSetWatch(s, _logger));
    }

    public bool TryCreateProvider(ServiceEndpointQuery query, [NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (ServiceTarget.From(query, _hosts) is not { } target)
        {
            Log.NotClaimed(_logger, query.ToString() ?? string.Empty);
            provider = null;
            return false;
        }

        Log.Claimed(_logger, target.Query, target.Host, _recordTypes);
        provider = new CloudMapServiceEndpointProvider(_cache, target, _recordTypes, _watchOf, _logger);
        return true;
    }
}
