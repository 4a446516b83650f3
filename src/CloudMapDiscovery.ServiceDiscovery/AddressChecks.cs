using System.Net;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>Background checks of a watched name's addresses: which of them failed their last check.</summary>
/// <remarks>
/// <para>
/// Microsoft.Extensions.ServiceDiscovery picks an endpoint by itself and tells its providers nothing of a failed request,
/// so without these a crashed task keeps its share of requests until DNS drops it (ECS waits 30 s before it does). Each
/// address is checked (a TCP connect, or a GET of <c>HealthCheckPath</c> expecting 2xx) when the watch starts and then
/// every <see cref="Interval"/> (an address new in DNS at once): 5 s bounds what a crash costs to a few seconds of one task's share, while a client costs
/// each task one connect per 5 s (a hundred callers, 20 a second), and a check that waits out its 2 s timeout on a
/// black-holed address is over before the next is due. A check still running when the next round comes is not doubled.
/// </para>
/// <para>Runs until disposed (the watch does so when its service is retired). Reports each change of the failing set.</para>
/// </remarks>
internal sealed class AddressChecks : IDisposable
{
    /// <summary>How often each address is checked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly DiscoveredService _service;
    private readonly EndpointCheck _check;
    private readonly int _port;
    private readonly CloudMapContext _context;
    private readonly ILogger _logger;
    private readonly Action _changed;
    private readonly object _gate = new();
    private readonly HashSet<EndpointAddress> _running = [];
    private readonly HashSet<EndpointAddress> _failing = [];
    private readonly HashSet<EndpointAddress> _checked = [];
    private ITimer? _timer;
    private bool _disposed;

    /// <param name="service">The name whose current addresses are checked.</param>
    /// <param name="check">The check (owned from now on).</param>
    /// <param name="port">The port of addresses DNS gives without one (A/AAAA).</param>
    /// <param name="context">The clock and shutdown token.</param>
    /// <param name="logger">The provider's logger.</param>
    /// <param name="changed">Told (never under a lock) when the set of failing addresses changed.</param>
    public AddressChecks(DiscoveredService service, EndpointCheck check, int port, CloudMapContext context, ILogger logger, Action changed)
    {
        _service = service;
        _check = check;
        _port = port;
        _context = context;
        _logger = logger;
        _changed = changed;
    }

    /// <summary>Runs the first round now and the next ones every <see cref="Interval"/>.</summary>
    public void Start() => Round();

    /// <summary>Checks at once the current addresses never checked yet (the name's first answer, an address new in DNS).</summary>
    public void CheckNew()
    {
        var addresses = Current();
        List<EndpointAddress> due;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            due = [.. addresses.Where(a => !_checked.Contains(a) && _running.Add(a))];
        }

        Run(due);
    }

    /// <summary>Whether <paramref name="address"/> failed its last check.</summary>
    public bool IsFailing(EndpointAddress address)
    {
        lock (_gate)
        {
            return _failing.Contains(address);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }

        _check.Dispose();
    }

    private void Round()
    {
        var addresses = Current();
        var due = new List<EndpointAddress>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            // Armed before the checks start, so that the next round is due Interval after this one whatever they take.
            _timer?.Dispose();
            _timer = _context.CreateDetachedTimer(static s => ((AddressChecks)s!).Round(), this, Interval);
            _failing.RemoveWhere(a => !addresses.Contains(a)); // an address that left DNS is forgotten (it is in no set)
            _checked.RemoveWhere(a => !addresses.Contains(a));
            due.AddRange(addresses.Where(_running.Add));
        }

        Run(due);
    }

    private HashSet<EndpointAddress> Current() => _service.Current?.Endpoints.Select(e => e.Address).ToHashSet() ?? [];

    private void Run(List<EndpointAddress> due)
    {
        if (due.Count != 0)
        {
            _ = CloudMapContext.RunDetached(() => RunAsync(due));
        }
    }

    // Runs unobserved: a check never throws, and the watch's callback catches what its listeners throw. A round's
    // verdicts are applied together, so that a set whose addresses all fail is not published part by part on the way.
    private async Task RunAsync(List<EndpointAddress> due)
    {
        var verdicts = await Task.WhenAll(due.Select(CheckAsync)).ConfigureAwait(false);
        var changed = new List<(IPEndPoint Target, string? Failure)>();
        lock (_gate)
        {
            foreach (var (address, target, failure) in verdicts)
            {
                _running.Remove(address);
                _checked.Add(address);
                if (!_disposed && (failure is null ? _failing.Remove(address) : _failing.Add(address)))
                {
                    changed.Add((target, failure));
                }
            }
        }

        foreach (var (target, failure) in changed)
        {
            if (failure is null)
            {
                Log.CheckPassed(_logger, target.ToString(), _service.Key.Host);
            }
            else
            {
                Log.CheckFailed(_logger, target.ToString(), _service.Key.Host, _check.Describe(target), failure);
            }
        }

        if (changed.Count != 0)
        {
            _changed();
        }
    }

    private async Task<(EndpointAddress Address, IPEndPoint Target, string? Failure)> CheckAsync(EndpointAddress address)
    {
        var target = new IPEndPoint(address.Address, address.Port ?? _port);
        return (address, target, await _check.RunAsync(target, CancellationToken.None, _context.ShutdownToken).ConfigureAwait(false));
    }
}
