using System.Collections.Concurrent;
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
    private readonly ConditionalWeakTable<DiscoveredService, ConcurrentDictionary<(int Port, string Scheme), EndpointSetWatch>> _watches = new();
    private readonly Func<DiscoveredService, ServiceTarget, EndpointSetWatch> _watchOf;

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

        // One watch per service object and checked port: the table lets a retired service and its watches be collected
        // together. Its checks use the probes' settings: HealthCheckPath (else a TCP connect) within ConnectTimeout;
        // ProbeEjectedEndpoints = false turns them off.
        var unnamed = options.Get(Options.DefaultName);
        var path = unnamed.HealthCheckPath;
        var timeout = unnamed.ConnectTimeout is { } t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(2);
        var context = registry.Context;
        _watchOf = (service, target) => _watches.GetOrCreateValue(service).GetOrAdd(
            (target.CheckPort, target.Scheme),
            key => new EndpointSetWatch(
                service,
                _logger,
                unnamed.ProbeEjectedEndpoints
                    ? changed => new AddressChecks(service, new EndpointCheck(service.Key.Host, key.Scheme, path, timeout, context.Clock), key.Port, context, _logger, changed)
                    : null));
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
