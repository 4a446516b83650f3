using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// Background checks that stand between an address and its requests: an ejected address is re-admitted when one
/// succeeds (not when its ejection time is over), and a new address gets its first request only after one succeeds.
/// </summary>
/// <remarks>
/// Requests never wait for a probe. A probe runs when its endpoint's ejection ends (jittered by the ejection time), at
/// most one per address at a time, bounded by the connect timeout; a failed one ejects the address again, for longer.
/// A probe is a TCP connect, or an HTTP GET of the health-check path when one is set. An address ejected for its
/// responses accepts connections, so a connect proves nothing: without a health-check path, the end of its ejection
/// offers it one trial request instead.
/// </remarks>
internal sealed class EndpointProber : IDisposable
{
    private readonly BalancingSettings _settings;
    private readonly CloudMapContext _context;
    private readonly string _host;
    private readonly int? _port;
    private readonly Action<BalancedEndpoint> _offerTrial;
    private readonly EndpointCheck _check;
    private readonly object _gate = new();
    private bool _disposed;

    /// <param name="settings">The ejection and probe settings.</param>
    /// <param name="context">The clock, meter, loggers and shutdown token.</param>
    /// <param name="host">The service, for logs, metrics and the health check's Host header.</param>
    /// <param name="port">The port of the balancer's requests, for addresses DNS gives without one (A/AAAA).</param>
    /// <param name="scheme">The requests' scheme, for the health check.</param>
    /// <param name="offerTrial">Offers an endpoint out for its responses one trial request.</param>
    public EndpointProber(BalancingSettings settings, CloudMapContext context, string host, int? port, string scheme, Action<BalancedEndpoint> offerTrial)
    {
        _settings = settings;
        _context = context;
        _host = host;
        _port = port;
        _offerTrial = offerTrial;
        _check = new EndpointCheck(host, scheme, settings.Probe.HealthCheckPath, settings.Probe.Timeout, context.Clock);
    }

    /// <summary>Whether <paramref name="endpoint"/> can be probed: it has a port, from SRV or from the balancer's requests.</summary>
    public bool CanProbe(BalancedEndpoint endpoint) => (endpoint.Address.Port ?? _port) is not null;

    /// <summary>Probes <paramref name="endpoint"/> when its ejection ends (at once for a new address held back).</summary>
    public void Schedule(BalancedEndpoint endpoint)
    {
        EndpointProbe probe;
        lock (_gate)
        {
            if (_disposed || endpoint.HasLeft)
            {
                return;
            }

            probe = endpoint.Probe ??= new EndpointProbe();
            if (probe.Running || probe.IsStopped)
            {
                return;
            }

            probe.Timer?.Dispose();
            probe.Timer = null;
            var due = _context.Until(endpoint.EjectedUntil);
            if (due > TimeSpan.Zero)
            {
                probe.Timer = _context.CreateDetachedTimer(static s => ((Due)s!).Fire(), new Due(this, endpoint, probe), due);
                return;
            }

            probe.Running = true;
        }

        // Called from a request's failure or the balancer's reconciliation, perhaps under the balancer's lock: the
        // connect starts on the thread pool, with no request's context.
        _ = CloudMapContext.RunDetached(() => RunAsync(endpoint, probe));
    }

    /// <summary>Stops the probe of an endpoint that left DNS or was proved healthy by a request.</summary>
    public void Stop(BalancedEndpoint endpoint)
    {
        lock (_gate)
        {
            endpoint.Probe?.Dispose();
            endpoint.Probe = null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        _check.Dispose();
    }

    private void Fire(BalancedEndpoint endpoint, EndpointProbe probe)
    {
        lock (_gate)
        {
            if (_disposed || endpoint.HasLeft || probe.IsStopped || probe.Running || !ReferenceEquals(endpoint.Probe, probe))
            {
                return;
            }

            probe.Timer?.Dispose();
            probe.Timer = null;
            probe.Running = true;
        }

        _ = RunAsync(endpoint, probe);
    }

    // Runs unobserved, from a timer or the thread pool: the connect never throws, and the next probe of a failed
    // address is scheduled whatever the telemetry does.
    private async Task RunAsync(BalancedEndpoint endpoint, EndpointProbe probe)
    {
        if (_settings.Probe.HealthCheckPath is null && endpoint.IsOutForResponses)
        {
            lock (_gate)
            {
                probe.Running = false;
            }

            _offerTrial(endpoint);
            return;
        }

        var failure = await ConnectAsync(endpoint, probe).ConfigureAwait(false);
        lock (_gate)
        {
            probe.Running = false;
            if (_disposed || probe.IsStopped || !ReferenceEquals(endpoint.Probe, probe))
            {
                return; // the address left DNS, a request proved it, or the library is shutting down
            }
        }

        var name = endpoint.ToString();
        if (failure is null)
        {
            endpoint.ProbeSucceeded();
            _context.Metrics.Probe(_host, "success");
            Log.ProbeSucceeded(_context.Logger, name, _host);
            return;
        }

        var duration = endpoint.ProbeFailed(_context.Clock.GetTimestamp(), _settings.Ejection, _context);
        try
        {
            _context.Metrics.Probe(_host, "failure");
            Log.ProbeFailed(_context.Logger, name, _host, failure, duration);
        }
        finally
        {
            // The address now waits for a probe to be re-admitted: a logger that throws must not leave it without one.
            Schedule(endpoint);
        }
    }

    /// <summary>One check; <see langword="null"/> when it passed, else what went wrong.</summary>
    private async Task<string?> ConnectAsync(BalancedEndpoint endpoint, EndpointProbe probe)
    {
        var port = endpoint.Address.Port ?? _port;
        if (port is not { } p)
        {
            return "no port to probe";
        }

        var target = new IPEndPoint(endpoint.Address.Address, p);
        Log.Probing(_context.Logger, endpoint.ToString(), _host, _check.Describe(target));
        return await _check.RunAsync(target, probe.Stopped, _context.ShutdownToken).ConfigureAwait(false);
    }

    private sealed record Due(EndpointProber Prober, BalancedEndpoint Endpoint, EndpointProbe Probe)
    {
        public void Fire() => Prober.Fire(Endpoint, Probe);
    }
}
