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
    private volatile BalancedSet _current = BalancedSet.Empty;
    private uint _counter = (uint)Random.Shared.Next();

    public ServiceBalancer(ResolvedService service, BalancingSettings settings, CloudMapContext context)
    {
        Service = service;
        _settings = settings;
        _context = context;
        _onReadmitted = e => Log.Readmitted(_context.Logger, e.ToString(), Service.Key.Host);

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

    /// <summary>Counts a failed request on an endpoint and ejects it when the settings say so.</summary>
    public void ReportFailure(BalancedEndpoint endpoint, bool connectFailure)
    {
        Service.Distrust(endpoint.Address);
        var duration = endpoint.ReportFailure(connectFailure, _context.Clock.GetTimestamp(), _settings.Ejection, _context);
        if (duration is { } d)
        {
            _context.Metrics.Ejection(Key.Host);
            Log.Ejected(_context.Logger, endpoint.ToString(), Key.Host, d, endpoint.ConsecutiveFailures);
        }
    }

    /// <summary>A response came back: the endpoint works.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ReportSuccess(BalancedEndpoint endpoint)
    {
        if (endpoint.ReportSuccess())
        {
            Service.Trust(endpoint.Address);
        }
    }

    public void Dispose() => _watch.Dispose();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private BalancedSet For(ResolvedEndpoints version)
    {
        var current = _current;
        return ReferenceEquals(current.Source, version) ? current : Reconcile(version);
    }

    // Gives each address of the new version its health: the same object while the address stays, a new one for an
    // address that is new or whose state was forgotten.
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

            ForgetLeavers(previous, version, _context.Clock.GetTimestamp());
            var endpoints = new BalancedEndpoint[version.Endpoints.Length];
            for (var i = 0; i < endpoints.Length; i++)
            {
                var (address, merged) = version.Endpoints[i];
                if (!_known.TryGetValue(address, out var endpoint))
                {
                    endpoint = new BalancedEndpoint(address);
                    _known[address] = endpoint;
                }

                endpoint.IsMerged = merged;
                endpoints[i] = endpoint;
            }

            var set = new BalancedSet(version, endpoints);
            _current = set;
            return set;
        }
    }

    // An address that left DNS keeps its state only while it is ejected, so that a dead task that DNS lists again
    // (deregistration lags) is still avoided; a healthy leaver is forgotten, and so is a leaver whose ejection has
    // ended by the time it comes back.
    private void ForgetLeavers(BalancedSet previous, ResolvedEndpoints version, long now)
    {
        var present = version.Endpoints.Select(e => e.Address).ToHashSet();
        var stayed = previous.Endpoints.Select(e => e.Address).Where(present.Contains).ToHashSet();
        foreach (var (address, endpoint) in _known)
        {
            if (!stayed.Contains(address) && !endpoint.IsEjectedAt(now))
            {
                _known.Remove(address); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
    }
}
