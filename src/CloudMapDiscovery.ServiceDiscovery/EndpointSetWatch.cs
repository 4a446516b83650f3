using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// The addresses and change token handed to Microsoft.Extensions.ServiceDiscovery for one service name and port, shared by
/// every provider of them.
/// </summary>
/// <remarks>
/// The published set is DNS's addresses without those failing their background check (<see cref="AddressChecks"/>),
/// or all of them when every one fails: checks alone never publish an empty set. The token fires when the published set
/// changes, or when the service is retired; not when DNS returns the same addresses
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
    private readonly AddressChecks? _checks;
    private Generation _current = new(null);
    private bool _retired;

    /// <param name="service">The name's entry in the cache.</param>
    /// <param name="logger">The provider's logger.</param>
    /// <param name="checks">Makes the background checks of the name's addresses, given what to call when their verdicts change; <see langword="null"/> for none.</param>
    public EndpointSetWatch(DiscoveredService service, ILogger logger, Func<Action, AddressChecks>? checks = null)
    {
        _service = service;
        _logger = logger;
        _checks = checks?.Invoke(() => OnChanged("a health check failed or passed again"));

        // OnChange takes the service's next token before running the callback, so a version published while the
        // callback runs is not missed.
        _registration = ChangeToken.OnChange(service.GetChangeToken, () =>
        {
            _checks?.CheckNew();
            OnChanged("DNS answered with other addresses");
        });
        if (_retired)
        {
            _checks?.Dispose();
        }
        else
        {
            _checks?.Start();
        }
    }

    /// <summary>
    /// The addresses of <paramref name="version"/> to give a consumer, and the token that fires once those are no longer
    /// the published set.
    /// </summary>
    /// <remarks>The token has already fired when <paramref name="version"/> is not the latest set.</remarks>
    public (IReadOnlyList<EndpointAddress> Addresses, IChangeToken Token) Publish(EndpointSet version)
    {
        _checks?.CheckNew();
        var addresses = Published(version);
        var set = AddressSet.Of(addresses, version.NegativeReason is not null);
        Generation? superseded = null;
        IChangeToken token;
        lock (_gate)
        {
            // A retired service publishes nothing more: say so at once rather than through the callback still on its way.
            if (_retired || _service.IsRetired)
            {
                return (addresses, Fired);
            }

            if (!_current.Holds(set))
            {
                // The service publishes a version before its token fires, so a consumer can bring one the watch has not
                // compared yet: take it if it is the latest, otherwise let the consumer ask again at once.
                if (_service.Current is not { } latest || !set.Equals(Of(latest)))
                {
                    return (addresses, Fired);
                }

                superseded = _current;
                _current = new Generation(set);
            }

            token = _current.Token;
        }

        Fire(superseded, "a newer answer");
        return (addresses, token);
    }

    /// <summary>The addresses of <paramref name="version"/> that passed their last check; all of them when none did.</summary>
    private List<EndpointAddress> Published(EndpointSet version)
    {
        var all = version.Endpoints.Select(e => e.Address).ToList();
        if (_checks is null)
        {
            return all;
        }

        var passing = all.Where(a => !_checks.IsFailing(a)).ToList();
        return passing.Count == 0 ? all : passing;
    }

    private AddressSet Of(EndpointSet version) => AddressSet.Of(Published(version), version.NegativeReason is not null);

    private void OnChanged(string why)
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

                var set = Of(latest);
                if (_current.Holds(set))
                {
                    return;
                }

                superseded = _current;
                _current = new Generation(set);
                reason = why;
            }
        }

        if (_retired)
        {
            _registration?.Dispose();
            _checks?.Dispose();
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
