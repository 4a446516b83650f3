using System.Runtime.CompilerServices;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>Balances requests over one service's endpoints on one port, keeping each address's health across the versions its service publishes.</summary>
/// <remarks>
/// One path forward: the service tells the balancer of each new version (in order, before requests can see it),
/// and the balancer makes a new immutable <see cref="BalancedSet"/> from it; a version older than the one it has is
/// ignored. Requests and diagnostics only read <see cref="Current"/>. Health is per address and port: a service called
/// on two ports has a balancer for each, so a task failing on one port stays in rotation on the other, and each is
/// probed on its own port.
/// </remarks>
internal sealed class ServiceBalancer : IDisposable
{
    private readonly BalancingSettings _settings;
    private readonly CloudMapContext _context;
    private readonly object _gate = new();
    private readonly Action<BalancedEndpoint> _onReadmitted;
    private readonly IDisposable _subscription;
    private readonly EndpointProber _prober;
    private readonly FailureRateDetector? _detector;
    private readonly double _tau;
    private readonly ZoneRouter _zones;
    private volatile BalancedSet _current = BalancedSet.Empty;
    private uint _counter = (uint)Random.Shared.Next();
    private readonly TrialOffers _trials = new();

    /// <param name="service">The discovered service.</param>
    /// <param name="settings">The health settings.</param>
    /// <param name="context">The clock, meter, loggers and shutdown token.</param>
    /// <param name="port">The port requests go to (and probes connect to) for addresses DNS gives without one; null for SRV.</param>
    /// <param name="scheme">The requests' scheme, for health checks.</param>
    /// <param name="callerZone">This process's zone, for zone-aware routing (none: routing by configuration alone).</param>
    public ServiceBalancer(DiscoveredService service, BalancingSettings settings, CloudMapContext context, int? port = null, string scheme = "http", CallerZone? callerZone = null)
    {
        Service = service;
        Port = port;
        _settings = settings;
        _context = context;
        _tau = context.ToCoarseTicks(PeakEwmaPolicy.Decay);
        _zones = new ZoneRouter(settings.Zoning, callerZone, context, service.Key.Host, Replan);
        _onReadmitted = e => Log.Readmitted(_context.Logger, e.ToString(), Service.Key.Host);
        _prober = new EndpointProber(settings, context, service.Key.Host, port, scheme, OfferTrial);
        _detector = FailureRateDetector.For(settings.Ejection, context);

        // Told of the current version now, and of each new one as it is published.
        _subscription = service.Subscribe(OnPublished);
    }

    public DiscoveredService Service { get; }

    public ServiceKey Key => Service.Key;

    /// <summary>The port of this balancer's requests (null: the ports come from SRV).</summary>
    public int? Port { get; }

    /// <summary>Set once the service has been dropped from its cache: holders must look the name up again.</summary>
    public bool IsRetired => Service.IsRetired;

    /// <summary>The balanced form of the latest endpoint set (an empty one before the first answer).</summary>
    /// <remarks>Reading it changes nothing.</remarks>
    public BalancedSet Current => _current;

    /// <summary>The balanced set while the answer is fresh; otherwise <see langword="false"/> (then call <see cref="GetAsync"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetFresh([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BalancedSet? set)
    {
        if (Service.TryGetFresh() is not null)
        {
            set = _current; // never older than the service's answer: versions reach the balancer before requests
            return true;
        }

        set = null;
        return false;
    }

    /// <summary>The balanced set, waiting for DNS only when there is no usable answer (see <see cref="DiscoveredService.GetAsync"/>).</summary>
    public async ValueTask<BalancedSet> GetAsync(CancellationToken cancellationToken)
    {
        await Service.GetAsync(cancellationToken).ConfigureAwait(false);
        return _current;
    }

    /// <summary>Picks round robin, panicking when nothing is available (see <see cref="Pick(BalancedSet, IReadOnlyCollection{BalancedEndpoint}?, PickPolicy, bool)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BalancedEndpoint? Pick(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude)
        => Pick(set, exclude, RoundRobinPolicy.Instance, panic: true);

    /// <summary>Picks an endpoint not in <paramref name="exclude"/>: a trial on offer first, else the zone step's endpoints (<see cref="ZonePlan.Candidates"/>), by <paramref name="policy"/> among the available ones, else (with <paramref name="panic"/>) among all.</summary>
    /// <remarks>Returns <see langword="null"/> when nothing may be chosen: every endpoint excluded, or none available and no panic.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BalancedEndpoint? Pick(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude, PickPolicy policy, bool panic)
    {
        if (_trials.Any && _trials.Take(set, exclude) is { } trial)
        {
            return trial;
        }

        return EndpointPicker.Pick(set.Zones.Candidates(set.Endpoints, exclude, _context.Clock, _onReadmitted), ref _counter, policy, exclude, panic, _context.Clock, _onReadmitted);
    }

    /// <summary>Whether a request that tried <paramref name="tried"/> has an available endpoint left (a retry does not panic).</summary>
    public bool AnyAvailable(BalancedSet set, IReadOnlyCollection<BalancedEndpoint> tried)
    {
        var candidates = new Candidates(_context.Clock, tried, _onReadmitted, panic: false);
        return candidates.Count(set.Endpoints) > 0 || set.Endpoints.Any(e => e.TrialOffered && !tried.Contains(e));
    }

    /// <summary>A request is sent to <paramref name="endpoint"/>: it counts as in flight until <see cref="Finish"/>; returns the start time when the policy times requests, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Start(BalancedEndpoint endpoint, PickPolicy policy)
    {
        endpoint.Load.Begin();
        return policy.MeasuresLatency ? _context.Clock.GetTimestamp() : 0;
    }

    /// <summary>The attempt on <paramref name="endpoint"/> got its response headers or failed: it is no longer in flight, and its latency (when timed) feeds the estimate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish(BalancedEndpoint endpoint, long started)
    {
        endpoint.Load.End();
        if (started != 0)
        {
            endpoint.Load.Observe(_context.Clock.GetElapsedTime(started).TotalMilliseconds, _context.CoarseNow(), _tau);
        }
    }

    /// <summary>A response came back: a 5xx counts against the endpoint (unless <c>ConsecutiveServerErrors</c> is 0), anything else shows it works.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReportResponse(BalancedEndpoint endpoint, int status)
    {
        if (status >= 500 && _settings.Ejection.CountsServerErrors)
        {
            ReportFailure(endpoint, FailureCause.ServerError);
        }
        else
        {
            ReportSuccess(endpoint);
        }
    }

    /// <summary>Counts a failed request on an endpoint and ejects it when the settings (and the ejection budget) say so.</summary>
    public void ReportFailure(BalancedEndpoint endpoint, FailureCause cause)
    {
        if (cause != FailureCause.ServerError)
        {
            Service.Distrust(endpoint.Address); // a 5xx comes from a task that is there
        }

        if (cause != FailureCause.Connect)
        {
            endpoint.Load.CountFailure();
        }

        // A request that started before the address left DNS may report on it afterwards: it is held against the
        // (forgotten) endpoint, and nothing is probed for it.
        var probeConnects = _settings.Probe.Ejected && !endpoint.HasLeft && _prober.CanProbe(endpoint);
        var now = _context.Clock.GetTimestamp();
        List<(BalancedEndpoint Endpoint, TimeSpan Duration)>? ejected = null;
        bool budgetSpent;
        lock (_gate)
        {
            var budgetLeft = cause == FailureCause.Connect || _settings.Ejection.BudgetLeft(_current.Endpoints, endpoint);
            if (endpoint.ReportFailure(cause, now, _settings.Ejection, _context, probeConnects, budgetLeft, out budgetSpent) is { } d)
            {
                (ejected ??= []).Add((endpoint, d));
            }

            if (cause != FailureCause.Connect && _detector?.Judge(_current.Endpoints, now) is { } outliers)
            {
                foreach (var outlier in outliers)
                {
                    if (_settings.Ejection.BudgetLeft(_current.Endpoints, outlier) && outlier.EjectForFailureRate(now, _settings.Ejection, _context) is { } rateDuration)
                    {
                        (ejected ??= []).Add((outlier, rateDuration));
                    }
                }
            }
        }

        if (budgetSpent)
        {
            Log.EjectionBudgetSpent(_context.Logger, endpoint.ToString(), Key.Host, EjectionReasons.ReasonOf(cause).Tag(), _settings.Ejection.MaxEjectionPercent);
        }

        foreach (var (e, duration) in ejected ?? [])
        {
            _context.Metrics.Ejection(Key.Host, e.Reason.Tag());
            Log.Ejected(_context.Logger, e.ToString(), Key.Host, duration, e.Reason.Tag(), e.ConsecutiveFailures);
            if (e.AwaitingProbe)
            {
                _prober.Schedule(e); // a probe, or a trial offered, when the ejection ends
            }
        }
    }

    /// <summary>A response came back: the endpoint works.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReportSuccess(BalancedEndpoint endpoint)
    {
        if (endpoint.ReportSuccess())
        {
            Service.Trust(endpoint.Address);
            _prober.Stop(endpoint);
        }
    }

    /// <summary>A request ended with no verdict on its endpoint (its caller cancelled): if it was the endpoint's trial, the trial is offered again.</summary>
    public void Abandon(BalancedEndpoint endpoint) => _trials.Release(endpoint);

    public void Dispose()
    {
        _subscription.Dispose();
        lock (_gate)
        {
            _prober.Dispose();
            foreach (var endpoint in _current.Endpoints)
            {
                _prober.Stop(endpoint);
            }
        }
    }

    // The prober found the ejection of an endpoint out for its responses over: the next request may try it.
    private void OfferTrial(BalancedEndpoint endpoint)
    {
        if (_trials.Offer(endpoint))
        {
            Log.TrialOffered(_context.Logger, endpoint.ToString(), Key.Host);
        }
    }

    // Gives each address of the new version its health: the same object while the address stays, a new one for an
    // address that is new (held back until a probe connects while the service has healthy ones, and starting at its
    // peers' latency estimate). An address that leaves takes its health with it: a task that comes back on the same
    // address is a new task, and probing guards against one that is not reachable. A negative answer ("no instances")
    // leaves nothing.
    private void OnPublished(EndpointSet version)
    {
        lock (_gate)
        {
            var previous = _current;
            if (version.Version <= previous.Version)
            {
                return; // forward only
            }

            var known = previous.Endpoints.ToDictionary(e => e.Address);
            var now = _context.Clock.GetTimestamp();
            var coarseNow = _context.CoarseNow();
            var holdNew = _settings.Probe.NewEndpoints && previous.Endpoints.Any(e => !e.AwaitingProbe && !e.IsEjectedAt(now));
            var neutral = previous.MeanEstimate(coarseNow, _tau);
            var endpoints = new BalancedEndpoint[version.Endpoints.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var (address, merged) = version.Endpoints[i];
                if (!known.Remove(address, out var endpoint))
                {
                    endpoint = new BalancedEndpoint(address);
                    endpoint.Load.Seed(neutral, coarseNow);
                    if (holdNew && _prober.CanProbe(endpoint))
                    {
                        endpoint.HoldForProbe(now);
                        Log.HeldForProbe(_context.Logger, endpoint.ToString(), Key.Host);
                        _prober.Schedule(endpoint);
                    }
                }

                endpoint.IsMerged = merged;
                endpoint.Instance = version.Endpoints[i].Instance;
                endpoints[i] = endpoint;
            }

            foreach (var leaver in known.Values)
            {
                leaver.Leave();
                _prober.Stop(leaver);
            }

            _current = new BalancedSet(version.Version, endpoints, version.NegativeReason, _zones.Plan(endpoints, previous.Zones));
            _trials.Recount(endpoints);
        }
    }

    // The caller's zone became known (or will never be): the current set gets the plan it now allows.
    private void Replan()
    {
        lock (_gate)
        {
            var current = _current;
            _current = new BalancedSet(current.Version, current.Endpoints, current.NegativeReason, _zones.Plan(current.Endpoints, current.Zones));
        }
    }
}
