using System.Net;
using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ServiceDiscovery;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// The endpoints of one service name for a Microsoft.Extensions.ServiceDiscovery watcher, from the shared resolution
/// cache.
/// </summary>
/// <remarks>
/// The watcher asks only when it starts and when the change token fires, not per request; so the provider holds the
/// name in the cache while it lives (it would otherwise be evicted as idle while requests flow, and come back cold).
/// Its addresses carry the query's port (A/AAAA) or DNS's (SRV), and the query's authority as host name. Addresses that
/// fail their background check are left out until they pass again (see <see cref="AddressChecks"/>).
/// </remarks>
internal sealed class CloudMapServiceEndpointProvider : IServiceEndpointProvider, IHostNameFeature
{
    private readonly DiscoveryPartition _cache;
    private readonly ServiceTarget _target;
    private readonly DiscoveryRecordTypes _recordTypes;
    private readonly Func<DiscoveredService, ServiceTarget, EndpointSetWatch> _watches;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private DiscoveredService? _service;
    private IDisposable? _hold;
    private bool _disposed;

    public CloudMapServiceEndpointProvider(
        DiscoveryPartition cache, ServiceTarget target, DiscoveryRecordTypes recordTypes, Func<DiscoveredService, ServiceTarget, EndpointSetWatch> watches, ILogger logger)
    {
        _cache = cache;
        _target = target;
        _recordTypes = recordTypes;
        _watches = watches;
        _logger = logger;
    }

    /// <summary>The Host header for requests to these endpoints: the authority as the query wrote it.</summary>
    string IHostNameFeature.HostName => _target.Authority;

    public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        // A provider registered before this one (configuration) that gave endpoints overrides DNS, as it does for
        // Microsoft's own DNS provider.
        if (endpoints.Endpoints.Count != 0)
        {
            Log.Skipped(_logger, _target.Host);
            return;
        }

        var service = Acquire();
        var watch = _watches(service, _target);

        // Served from the cache; waits (sharing one query with every caller) only when there is no usable answer.
        // A DNS failure with no answer to fall back on throws ServiceDiscoveryException naming the host.
        var version = await service.GetAsync(cancellationToken).ConfigureAwait(false);
        if (version.NegativeReason is { } reason)
        {
            // An empty list would let the pass-through provider send requests to the name through the system
            // resolver; "no instances" is an answer the caller must see.
            throw new ServiceDiscoveryException(_target.Host, $"No instances are registered for {_target.Host} ({reason}).") { NoInstances = true };
        }

        // DNS's addresses without those failing their background check (all of them when every one fails).
        var (addresses, token) = watch.Publish(version);
        foreach (var address in addresses)
        {
            endpoints.Endpoints.Add(Create(address));
        }

        endpoints.AddChangeToken(token);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Populated(_logger, addresses.Count, _target.Host, string.Join(", ", addresses));
        }
    }

    public ValueTask DisposeAsync()
    {
        IDisposable? hold;
        lock (_gate)
        {
            _disposed = true;
            hold = _hold;
            _hold = null;
            _service = null;
        }

        hold?.Dispose();
        return default;
    }

    /// <summary>Shown in Microsoft.Extensions.ServiceDiscovery's logs among the providers of a service.</summary>
    public override string ToString() => "Cloud Map";

    // The service in the cache, held while this provider lives. A retired one (the cache was disposed, or it was
    // evicted before the hold took) is replaced by the name's current entry.
    private DiscoveredService Acquire()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_service is null || _service.IsRetired)
            {
                _hold?.Dispose();
                _hold = null;
                var service = _cache.GetService(_target.Host, _recordTypes);
                _hold = service.Hold();
                _service = service;
            }

            return _service;
        }
    }

    private ServiceEndpoint Create(EndpointAddress address)
    {
        // Port 0 (no port in the query, A/AAAA): the HTTP handler keeps the request's port, YARP its scheme's default.
        var endpoint = ServiceEndpoint.Create(new IPEndPoint(address.Address, address.Port ?? _target.Port));
        endpoint.Features.Set<IServiceEndpointProvider>(this);
        endpoint.Features.Set<IHostNameFeature>(this);
        return endpoint;
    }
}
