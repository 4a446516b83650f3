using System.Runtime.CompilerServices;

namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>One endpoint set's split by zone: the caller's zone's endpoints, and whether requests may be kept there.</summary>
/// <remarks>
/// Made once per set (and again when the caller's zone becomes known), never per request. A pick asks
/// <see cref="Candidates"/> which array its policy chooses from: the local endpoints while at least
/// <see cref="MinHealthyLocal"/> of them are available (not ejected, not awaiting a probe, not excluded), else every
/// endpoint. Ejection therefore shrinks the local capacity at the next pick, with no rebuild. A retry (something is
/// excluded) goes to the other zones while one of them is available: the failure may be the zone's own (an outage), and
/// a retry that stayed would spend the request's attempts on the zone that just failed it.
/// </remarks>
internal sealed class ZonePlan
{
    /// <summary>No zone routing, and nothing to say about it (the source gives no zones).</summary>
    public static readonly ZonePlan None = new(false, [], [], 0, null, null);

    public ZonePlan(bool active, BalancedEndpoint[] local, BalancedEndpoint[] remote, int minHealthyLocal, string? callerZone, string? reason)
    {
        Active = active;
        Local = local;
        Remote = remote;
        MinHealthyLocal = minHealthyLocal;
        CallerZone = callerZone;
        Reason = reason;
    }

    /// <summary>Whether requests prefer the caller's zone.</summary>
    public bool Active { get; }

    /// <summary>The endpoints in the caller's zone, in set order.</summary>
    public BalancedEndpoint[] Local { get; }

    /// <summary>The endpoints in other zones (or of no known zone), in set order.</summary>
    public BalancedEndpoint[] Remote { get; }

    public int MinHealthyLocal { get; }

    /// <summary>The caller's zone, when known.</summary>
    public string? CallerZone { get; }

    /// <summary>Why routing is off (or, when on, what it does), for the log and the snapshot; <see langword="null"/> when there is nothing to say.</summary>
    public string? Reason { get; }

    /// <summary>The endpoints a pick chooses among: for a first attempt the local ones while enough are available, for a retry the other zones' while one is; else <paramref name="all"/>.</summary>
    /// <remarks>Available is <see cref="Balancing.Candidates"/>'s rule (which re-admits an endpoint whose ejection is over, telling <paramref name="onReadmitted"/>).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BalancedEndpoint[] Candidates(BalancedEndpoint[] all, IReadOnlyCollection<BalancedEndpoint>? exclude, TimeProvider clock, Action<BalancedEndpoint>? onReadmitted)
        => !Active ? all
            : exclude is null ? (AtLeast(MinHealthyLocal, Local, null, clock, onReadmitted) ? Local : all)
            : AtLeast(1, Remote, exclude, clock, onReadmitted) ? Remote : all;

    // Whether at least `needed` of `endpoints` are available and not excluded; stops counting there.
    private static bool AtLeast(int needed, BalancedEndpoint[] endpoints, IReadOnlyCollection<BalancedEndpoint>? exclude, TimeProvider clock, Action<BalancedEndpoint>? onReadmitted)
    {
        var candidates = new Candidates(clock, exclude, onReadmitted, panic: false);
        var available = 0;
        foreach (var e in endpoints)
        {
            if (candidates.Includes(e) && ++available >= needed)
            {
                return true;
            }
        }

        return false;
    }
}
