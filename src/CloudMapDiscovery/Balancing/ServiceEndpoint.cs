using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Balancing;

/// <summary>
/// One task address (and, with SRV, its port) with its health. The same instance lives across DNS
/// refreshes, so a dead address that DNS still lists stays ejected. Health is changed under a lock
/// (failures are rare); the pick path reads it without one.
/// </summary>
internal sealed class ServiceEndpoint
{
    private readonly object _gate = new();
    private long _ejectedUntil;          // TimeProvider timestamp; 0 when not ejected
    private int _consecutiveFailures;
    private int _ejections;              // consecutive ejections without a success in between
    private long _picks;
    private UriPrefix? _prefix;
    private Rewritten? _lastRewrite;

    public ServiceEndpoint(IPAddress address, int? port)
    {
        Address = address;
        Port = port;
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        HostText = host;
    }

    public IPAddress Address { get; }

    /// <summary>The port from SRV; <see langword="null"/> for A/AAAA, where the request's port is used.</summary>
    public int? Port { get; }

    /// <summary>The address as it goes into a URI: IPv6 in brackets.</summary>
    public string HostText { get; }

    /// <summary>When DNS last listed this endpoint; merged MULTIVALUE addresses expire from it.</summary>
    public long LastSeen { get; set; }

    /// <summary>True when the endpoint is in the set only through a MULTIVALUE merge, not the latest answer.</summary>
    public bool IsMerged { get; set; }

    public long EjectedUntil => Volatile.Read(ref _ejectedUntil);

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public int Ejections => Volatile.Read(ref _ejections);

    public long Picks => Volatile.Read(ref _picks);

    // A diagnostic count, not a correctness one: a plain increment keeps the pick free of a second atomic
    // operation, at the price of a lost count now and then when two threads pick the same endpoint at once.
    public void CountPick() => _picks++;

    /// <summary>Whether a request may be sent here now. Re-admission is lazy: an expired ejection is cleared by the first reader that sees it.</summary>
    public bool IsAvailable(long now, out bool readmitted)
    {
        readmitted = false;
        var until = Volatile.Read(ref _ejectedUntil);
        if (until == 0)
        {
            return true;
        }

        if (now < until)
        {
            return false;
        }

        readmitted = Interlocked.CompareExchange(ref _ejectedUntil, 0, until) == until;
        return true;
    }

    /// <summary>Counts a failure; returns the ejection time when this failure ejected the endpoint.</summary>
    public TimeSpan? ReportFailure(bool connectFailure, long now, TimeProvider clock, EjectionPolicy policy)
    {
        lock (_gate)
        {
            _consecutiveFailures++;
            // Once ejected (and not since vouched for by a success), the next failure of either kind ejects again.
            var threshold = _ejections > 0 ? 1 : connectFailure ? policy.ConsecutiveConnectFailures : policy.ConsecutiveFailures;
            if (_consecutiveFailures < threshold || (_ejectedUntil != 0 && now < _ejectedUntil))
            {
                return null;
            }

            // The failure count is kept (not reset) so that after re-admission the very next failure
            // ejects again, for longer: re-admitting into a fresh failure window is what makes a dead
            // endpoint flap (dotnet/yarp#1082).
            _ejections++;
            var duration = policy.EjectionTime(_ejections);
            _ejectedUntil = now + (long)(duration.TotalSeconds * clock.TimestampFrequency);
            if (_ejectedUntil == 0)
            {
                _ejectedUntil = 1;
            }

            return duration;
        }
    }

    /// <summary>A success clears the failure count and the ejection multiplier.</summary>
    public void ReportSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) == 0 && Volatile.Read(ref _ejections) == 0)
        {
            return; // the common case stays free of locks and writes
        }

        lock (_gate)
        {
            // A success also ends an ejection: when every endpoint was ejected and this one was tried anyway
            // (fail open), it has just proved itself, and should not stay the only one chosen.
            _consecutiveFailures = 0;
            _ejections = 0;
            _ejectedUntil = 0;
        }
    }

    /// <summary>
    /// The request URI rewritten to this endpoint. Calls to a service mostly repeat a few paths, so the last
    /// rewrite is kept and handed out again when the scheme, port, path, query and fragment are the same:
    /// a <see cref="Uri"/> is immutable and safe to share between requests, and parsing one is the costliest
    /// step of a request through the handler.
    /// </summary>
    public Uri Rewrite(Uri original)
    {
        var scheme = original.Scheme;
        var port = Port ?? original.Port;
        var pathAndQuery = original.PathAndQuery;
        var fragment = original.Fragment;
        var last = Volatile.Read(ref _lastRewrite);
        if (last is not null && last.Port == port && ReferenceEquals(last.Scheme, scheme)
            && string.Equals(last.PathAndQuery, pathAndQuery, StringComparison.Ordinal)
            && string.Equals(last.Fragment, fragment, StringComparison.Ordinal))
        {
            return last.Uri;
        }

        var uri = new Uri(GetUriPrefix(scheme, port) + pathAndQuery + fragment);
        Volatile.Write(ref _lastRewrite, new Rewritten(scheme, port, pathAndQuery, fragment, uri));
        return uri;
    }

    /// <summary>The URI prefix <c>scheme://address:port</c>, cached for the last scheme and port used.</summary>
    public string GetUriPrefix(string scheme, int port)
    {
        var p = Volatile.Read(ref _prefix);
        if (p is not null && p.Port == port && ReferenceEquals(p.Scheme, scheme))
        {
            return p.Text;
        }

        p = new UriPrefix(scheme, port, $"{scheme}://{HostText}:{port}");
        Volatile.Write(ref _prefix, p);
        return p.Text;
    }

    public override string ToString() => Port is { } port ? $"{HostText}:{port}" : HostText;

    private sealed record UriPrefix(string Scheme, int Port, string Text);

    private sealed record Rewritten(string Scheme, int Port, string PathAndQuery, string Fragment, Uri Uri);
}
