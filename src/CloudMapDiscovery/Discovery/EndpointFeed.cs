using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace CloudMapDiscovery.Discovery;

/// <summary>Tells a service's consumers of each new version of its endpoint set: listeners first, then the change token.</summary>
/// <remarks>
/// Not thread-safe for publishing: its owner (<see cref="DiscoveredService"/>) publishes and subscribes under one lock,
/// so listeners hear of versions one at a time and in order, and a new listener starts from the latest one.
/// </remarks>
#pragma warning disable CA1001 // the change sources are never disposed, on purpose: see Signal
internal sealed class EndpointFeed
#pragma warning restore CA1001
{
    private readonly ILogger _logger;
    private readonly string _host;
    private CancellationTokenSource _changes = new();
    private Action<EndpointSet>[] _listeners = [];
    private bool _watched;

    public EndpointFeed(ILogger logger, string host)
    {
        _logger = logger;
        _host = host;
    }

    /// <summary>The last version published, usable or not.</summary>
    public EndpointSet? Latest { get; private set; }

    /// <summary>Whether a change token was handed out since the last change: someone may be waiting on it.</summary>
    public bool IsWatched => Volatile.Read(ref _watched);

    /// <summary>A token that fires at the next new version, or when the service is retired.</summary>
    public IChangeToken GetChangeToken()
    {
        Volatile.Write(ref _watched, true);
        return new CancellationChangeToken(Volatile.Read(ref _changes).Token);
    }

    /// <summary>Adds <paramref name="listener"/> and tells it the latest version, if any.</summary>
    /// <remarks>The caller holds the owner's lock.</remarks>
    public void Add(Action<EndpointSet> listener)
    {
        _listeners = [.. _listeners, listener];
        if (Latest is { } latest)
        {
            Tell(listener, latest);
        }
    }

    /// <summary>Removes <paramref name="listener"/>.</summary>
    /// <remarks>The caller holds the owner's lock.</remarks>
    public void Remove(Action<EndpointSet> listener)
        => _listeners = Array.FindAll(_listeners, l => !ReferenceEquals(l, listener));

    /// <summary>
    /// Tells every listener of <paramref name="set"/> if it is a new version; returns whether it was.
    /// </summary>
    /// <remarks>The caller holds the owner's lock.</remarks>
    public bool Offer(EndpointSet? set)
    {
        if (set is null || set.Version == Latest?.Version)
        {
            return false;
        }

        Latest = set;
        foreach (var listener in _listeners)
        {
            Tell(listener, set);
        }

        return true;
    }

    /// <summary>Fires the change token and arms a new one.</summary>
    public void Signal()
    {
        // The old source is not disposed: a reader may still be taking its Token, which a disposed source would throw.
        Volatile.Write(ref _watched, false); // a watcher that wants the next change asks for a new token
        var old = Interlocked.Exchange(ref _changes, new CancellationTokenSource());
        try
        {
            old.Cancel();
        }
#pragma warning disable CA1031 // Cancel runs every callback before it throws; a watcher's failure must not fail the publisher
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ListenerFailed(_logger, ex, _host);
        }
    }

    private void Tell(Action<EndpointSet> listener, EndpointSet version)
    {
        try
        {
            listener(version);
        }
#pragma warning disable CA1031 // one listener's failure must not keep the others, or the requests, from the new set
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ListenerFailed(_logger, ex, _host);
        }
    }
}
