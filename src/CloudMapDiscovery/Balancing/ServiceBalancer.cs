using System.Runtime.CompilerServices;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// Balances requests over one service's endpoints: keeps each address's health across the versions its
/// <see cref="ResolvedService"/> publishes (reconciled when a version arrives), and picks round robin from a random
/// start, skipping ejected endpoints.
/// </summary>
internal sealed class ServiceBalancer : IDisposable
{
    private readonly BalancingSettings _settings;
    private readonly CloudMapContext _context;
    private readonly object _gate = new();
    private readonly Dictionary<EndpointAddress, BalancedEndpoint> _known = [];
    private readonly Action<BalancedEndpoint> _onReadmitted;
    private readonly IDisposable _watch;
    private readonly EndpointProber _prober;
    private volatile BalancedSet _current = BalancedSet.Empty;
    private uint _counter = (uint)Random.Shared.Next();

    public ServiceBalancer(ResolvedService service, BalancingSettings settings, CloudMapContext context)
    {
        Service = service;
        _settings = settings;
        _context = context;
        _onReadmitted = e => Log.Readmitted(_context.Logger, e.ToString(), Service.Key.Host);
        _prober = new EndpointProber(settings, context, service.Key.Host);

        // Reconciled as each version is published, so that health follows DNS even while no request comes by.
        _watch = ChangeToken.OnChange(service.GetChangeToken, () => Reconcile(service.Current));
    }

    public ResolvedService Service { get; }

    public ServiceKey Key => Service.Key;

    /// <summary>Set once the service has been dropped from its cache: holders must look the name up again.</summary>
    public bool IsRetired => Service.IsRetired;

    /// <summary>The balanced form of the service's current endpoint set (an empty one when there is no usable answer).</summary>
    public BalancedSet Current => Service.Current is { } v ? For(v) : BalancedSet.Empty;

    /// <summary>The balanced set while the answer is fresh; otherwise <see langword="false"/> (then call <see cref="GetAsync"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetFresh([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BalancedSet? set)
    {
        if (Service.TryGetFresh() is { } version)
        {
            set = For(version);
            return true;
        }

        set = null;
        return false;
    }

    /// <summary>The balanced set, waiting for DNS only when there is no usable answer (see <see cref="ResolvedService.GetAsync"/>).</summary>
    public async ValueTask<BalancedSet> GetAsync(CancellationToken cancellationToken)
        => For(await Service.GetAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Picks the next available endpoint not in <paramref name="exclude"/> (see <see cref="RoundRobinPicker.Pick"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BalancedEndpoint? Pick(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude)
        => RoundRobinPicker.Pick(set.Endpoints, ref _counter, exclude, _context.Clock, _onReadmitted);

    /// <summary>
    /// The port requests to this service are sent to: probes of addresses that DNS gives without a port (A/AAAA) connect
    /// there. The HTTP layer says it when it routes a host; a service called on several ports is probed on the last.
    /// </summary>
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
        _watch.Dispose();
        lock (_gate)
        {
            _prober.Dispose();
            foreach (var endpoint in _known.Values)
            {
                _prober.Stop(endpoint);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private BalancedSet For(ResolvedEndpoints version)
    {
        var current = _current;
        return ReferenceEquals(current.Source, version) ? current : Reconcile(version);
    }

    // Gives each address of the new version its health: the same object while the address stays, a new one for an
    // address that is new. A new address is held back until a probe connects while the service has healthy ones.
    private BalancedSet Reconcile(ResolvedEndpoints? version)
    {
        if (version is null)
        {
            return _current;
        }

        lock (_gate)
        {
            var previous = _current;
            if (ReferenceEquals(previous.Source, version))
            {
                return previous;
            }

            var now = _context.Clock.GetTimestamp();
            var holdNew = _settings.Probe.NewEndpoints && previous.Endpoints.Any(e => !e.AwaitingProbe && !e.IsEjectedAt(now));
            ForgetLeavers(version);
            var endpoints = new BalancedEndpoint[version.Endpoints.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var (address, merged) = version.Endpoints[i];
                if (!_known.TryGetValue(address, out var endpoint))
                {
                    endpoint = new BalancedEndpoint(address);
                    _known[address] = endpoint;
                    if (holdNew && _prober.CanProbe(endpoint))
                    {
                        endpoint.HoldForProbe(now);
                        Log.HeldForProbe(_context.Logger, endpoint.ToString(), Key.Host);
                        _prober.Schedule(endpoint);
                    }
                }

                endpoint.IsMerged = merged;
                endpoints[i] = endpoint;
            }

            var set = new BalancedSet(version, endpoints);
            _current = set;
            return set;
        }
    }

    // An address that leaves DNS (and that the MULTIVALUE merge does not keep) takes its health with it: a task that
    // comes back on the same address is a new task, and probing guards against one that is not reachable. A negative
    // answer ("no instances") leaves nothing.
    private void ForgetLeavers(ResolvedEndpoints version)
    {
        var present = version.Endpoints.Select(e => e.Address).ToHashSet();
        foreach (var (address, endpoint) in _known)
        {
            if (!present.Contains(address))
            {
                endpoint.Leave();
                _prober.Stop(endpoint);
                _known.Remove(address); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
    }
}
