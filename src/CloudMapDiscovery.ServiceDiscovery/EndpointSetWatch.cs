using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// The change token handed to Microsoft.Extensions.ServiceDiscovery for one service name, shared by every provider of
/// that name.
/// </summary>
/// <remarks>
/// It fires when the set of addresses changes, or when the service is retired; not when DNS returns the same addresses
/// in another order (Route 53 shuffles them, and the service's own token reports any new list, which would make every
/// watcher rebuild at every refresh). A token once handed out stays live after its provider is disposed: a consumer
/// holding it (YARP keeps the token of its last resolution) still hears of the next change.
/// </remarks>
#pragma warning disable CA1001 // the registration ends when the service is retired; the sources are never disposed (see Generation)
internal sealed class EndpointSetWatch
#pragma warning restore CA1001
{
    private static readonly IChangeToken Fired = new CancellationChangeToken(new CancellationToken(canceled: true));

    private readonly DiscoveredService _service;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly IDisposable? _registration; // null while the constructor runs a callback for an already retired service
    private Generation _current = new(null);
    private bool _retired;

    public EndpointSetWatch(DiscoveredService service, ILogger logger)
    {
        _service = service;
        _logger = logger;

        // OnChange takes the service's next token before running the callback, so a version published while the
        // callback runs is not missed.
        _registration = ChangeToken.OnChange(service.GetChangeToken, OnServiceChanged);
    }

    /// <summary>
    /// The token for a consumer given exactly the addresses of <paramref name="version"/>: it fires once the service's
    /// addresses are no longer those.
    /// </summary>
    /// <remarks>Already fired when <paramref name="version"/> is not the latest set.</remarks>
    public IChangeToken TokenFor(EndpointSet version)
    {
        var set = AddressSet.Of(version);
        Generation? superseded = null;
        IChangeToken token;
        lock (_gate)
        {
            // A retired service publishes nothing more: say so at once rather than through the callback still on its way.
            if (_retired || _service.IsRetired)
            {
                return Fired;
            }

            if (!_current.Holds(set))
            {
                // The service publishes a version before its token fires, so a consumer can bring one the watch has not
                // compared yet: take it if it is the latest, otherwise let the consumer ask again at once.
                if (_service.Current is not { } latest || !set.Equals(AddressSet.Of(latest)))
                {
                    return Fired;
                }

                superseded = _current;
                _current = new Generation(set);
            }

            token = _current.Token;
        }

        Fire(superseded, "a newer answer");
        return token;
    }

    private void OnServiceChanged()
    {
        Generation? superseded = null;
        string reason;
        lock (_gate)
        {
            if (_retired)
            {
                return;
            }

            if (_service.IsRetired)
            {
                _retired = true;
                superseded = _current;
                reason = "evicted from the cache";
            }
            else
            {
                // No current answer is no new set (a token fires only with a new answer or at retirement).
                if (_service.Current is not { } latest)
                {
                    return;
                }

                var set = AddressSet.Of(latest);
                if (_current.Holds(set))
                {
                    return;
                }

                superseded = _current;
                _current = new Generation(set);
                reason = "DNS answered with other addresses";
            }
        }

        if (_retired)
        {
            _registration?.Dispose();
        }

        Fire(superseded, reason);
    }

    // Outside the lock: the watchers' callbacks run synchronously here, on the refresh's thread, and must neither
    // re-enter the lock nor throw into the refresh that published the answer.
    private void Fire(Generation? generation, string reason)
    {
        if (generation?.Set is null)
        {
            return; // the first set: nobody was given a token before it
        }

        Log.SetChanged(_logger, _service.Key.Host, reason);
        try
        {
            generation.Source.Cancel();
        }
#pragma warning disable CA1031 // a consumer's callback that throws must not fail the DNS refresh
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ListenerFailed(_logger, ex, _service.Key.Host);
        }
    }

    /// <summary>One address set and the token of the consumers given it.</summary>
    /// <remarks>
    /// The source is never disposed: a consumer may still be reading its token, and without a timer it holds nothing
    /// the collector cannot reclaim.
    /// </remarks>
    private sealed class Generation
    {
        public Generation(AddressSet? set)
        {
            Set = set;
            Token = new CancellationChangeToken(Source.Token);
        }

        public AddressSet? Set { get; }

        public CancellationTokenSource Source { get; } = new();

        public IChangeToken Token { get; }

        public bool Holds(AddressSet set) => Set is not null && Set.Equals(set);
    }
}
