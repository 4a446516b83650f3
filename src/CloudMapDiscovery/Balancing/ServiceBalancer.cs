using System.Runtime.CompilerServices;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>Balances requests over one service's endpoints, keeping each address's health across the versions its service publishes.</summary>
/// <remarks>
/// One path forward: the service tells the balancer of each new version (in order, before requests can see it),
/// and the balancer makes a new immutable <see cref="BalancedSet"/> from it; a version older than the one it has is
/// ignored. Requests and diagnostics only read <see cref="Current"/>. Picks go round robin from a random start,
/// skipping ejected endpoints.
/// </remarks>
internal sealed class ServiceBalancer : IDisposable
{
    private readonly BalancingSettings _settings;
    private readonly CloudMapContext _context;
    private readonly object _gate = new();
    private readonly Action<BalancedEndpoint> _onReadmitted;
    private readonly IDisposable _subscription;
    private readonly EndpointProber _prober;
    private readonly CallerZone? _callerZone;
    private volatile BalancedSet _current = BalancedSet.Empty;
    private bool _awaitingCallerZone;
    private uint _counter = (uint)Random.Shared.Next();

    public ServiceBalancer(DiscoveredService service, BalancingSettings settings, CloudMapContext context, CallerZone? callerZone = null)
    {
        Service = service;
        _settings = settings;
        _context = context;
        _callerZone = callerZone;
        _onReadmitted = e => Log.Readmitted(_context.Logger, e.ToString(), Service.Key.Host);
        _prober = new EndpointProber(settings, context, service.Key.Host);

        // Told of the current version now, and of each new one as it is published.
        _subscription = service.Subscribe(OnPublished);
    }

    public DiscoveredService Service { get; }

    public ServiceKey Key => Service.Key;

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

    /// <summary>Picks the next available endpoint not in <paramref name="exclude"/>: the zone step chooses local or all endpoints, then round robin (see <see cref="RoundRobinPicker.Pick"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BalancedEndpoint? Pick(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude)
        => RoundRobinPicker.Pick(set.Zones.Candidates(set.Endpoints, exclude, _context.Clock), ref _counter, exclude, _context.Clock, _onReadmitted);

    /// <summary>
    /// The port requests to this service are sent to: probes of addresses that DNS gives without a port (A/AAAA)
    /// connect there.
    /// </summary>
    /// <remarks>
    /// The HTTP layer says it when it routes a host; a service called on several ports is probed on the last.
    /// </remarks>
    public void UseRequestPort(int port) => _prober.UseRequestPort(port);

    /// <summary>Whether a 502, 503 or 504 counts as a failure of the endpoint that answered it (EjectOnGatewayErrors).</summary>
    public bool EjectsOnGatewayErrors => _settings.Ejection.OnGatewayErrors;

    /// <summary>Counts a failed request on an endpoint and ejects it when the settings say so.</summary>
    public void ReportFailure(BalancedEndpoint endpoint, bool connectFailure)
    {
        Service.Distrust(endpoint.Address);
        // A request that started before the address left DNS may report on it afterwards: it is held against the
        // (forgotten) endpoint, and nothing is probed for it.
        var probe = _settings.Probe.Ejected && !endpoint.HasLeft && _prober.CanProbe(endpoint);
        var duration = endpoint.ReportFailure(connectFailure, _context.Clock.GetTimestamp(), _settings.Ejection, _context, awaitProbe: probe);
        if (duration is { } d)
        {
            _context.Metrics.Ejection(Key.Host);
            Log.Ejected(_context.Logger, endpoint.ToString(), Key.Host, d, endpoint.ConsecutiveFailures);
            if (probe)
            {
                _prober.Schedule(endpoint);
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

    // Gives each address of the new version its health: the same object while the address stays, a new one for an
    // address that is new (held back until a probe connects while the service has healthy ones). An address that
    // leaves takes its health with it: a task that comes back on the same address is a new task, and probing guards
    // against one that is not reachable. A negative answer ("no instances") leaves nothing.
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
            var holdNew = _settings.Probe.NewEndpoints && previous.Endpoints.Any(e => !e.AwaitingProbe && !e.IsEjectedAt(now));
            var endpoints = new BalancedEndpoint[version.Endpoints.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var (address, merged) = version.Endpoints[i];
                if (!known.Remove(address, out var endpoint))
                {
                    endpoint = new BalancedEndpoint(address);
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

            _current = new BalancedSet(version.Version, endpoints, version.NegativeReason, PlanZones(endpoints, previous.Zones));
        }
    }

    // The zone split of a new set, under the lock. The caller's zone is asked for only once some endpoint has a zone
    // (DNS never gives one); until it is known the plan is off, and the current set gets a new plan when it arrives.
    private ZonePlan PlanZones(BalancedEndpoint[] endpoints, ZonePlan previous)
    {
        var zoning = _settings.Zoning;
        CallerLocation? caller = zoning.Configured;
        var why = "this process's zone is not known yet";
        if (caller is null && _callerZone is not null && zoning.Enabled && endpoints.Any(e => e.Instance?.Zone is not null))
        {
            var detected = _callerZone.Detect();
            if (detected.IsCompletedSuccessfully)
            {
                caller = detected.Result;
                why = "this process's zone is unknown (set CloudMapDiscovery:Zone)";
            }
            else if (!_awaitingCallerZone)
            {
                _awaitingCallerZone = true;
                detected.ContinueWith(_ => Replan(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        else if (caller is null && !zoning.Enabled)
        {
            why = "ZoneAware is off";
        }

        var plan = ZonePlanner.Plan(endpoints, zoning, caller, why);
        if (plan.Active != previous.Active || (plan.Reason is not null && previous.Reason is null))
        {
            if (plan.Active)
            {
                Log.ZoneRoutingOn(_context.Logger, Key.Host, plan.Local.Length, endpoints.Length, plan.CallerZone!, zoning.MinHealthyLocal);
            }
            else if (plan.Reason is not null)
            {
                Log.ZoneRoutingOff(_context.Logger, Key.Host, plan.Reason);
            }
        }

        return plan;
    }

    // The caller's zone became known (or will never be): the current set gets the plan it now allows.
    private void Replan()
    {
        lock (_gate)
        {
            var current = _current;
            _current = new BalancedSet(current.Version, current.Endpoints, current.NegativeReason, PlanZones(current.Endpoints, current.Zones));
        }
    }
}
