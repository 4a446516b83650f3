using System.Runtime.CompilerServices;

namespace CloudMapDiscovery.Balancing;

/// <summary>Round robin over an immutable snapshot.</summary>
/// <remarks>
/// The counter lives with the service (not the snapshot), starts at a random value so that processes started together
/// do not all begin with the same task, and is read modulo the current snapshot's length, so a set that shrinks under
/// it can never index out of range. Overflow wraps in unsigned arithmetic.
/// </remarks>
internal static class RoundRobinPicker
{
    /// <summary>Picks the next available endpoint not in <paramref name="exclude"/>.</summary>
    /// <remarks>
    /// When every candidate is ejected, picks the one whose ejection ends soonest (fail open: a request is never failed
    /// without trying). Returns <see langword="null"/> only when every endpoint is excluded. The clock is read only
    /// when an endpoint is ejected or excluded; <paramref name="onReadmitted"/> hears of each endpoint whose ejection
    /// this pick found over.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BalancedEndpoint? Pick(
        BalancedEndpoint[] endpoints, ref uint counter, IReadOnlyCollection<BalancedEndpoint>? exclude, TimeProvider clock, Action<BalancedEndpoint>? onReadmitted)
    {
        var n = endpoints.Length;
        if (n == 0)
        {
            return null;
        }

        // The common case, kept small enough to inline: one atomic increment, one read of the ejection state.
        var start = Interlocked.Increment(ref counter);
        var first = endpoints[start % (uint)n];
        if (first.EjectedUntil == 0 && exclude is null)
        {
            first.CountPick();
            return first;
        }

        return PickSlow(endpoints, start, first, exclude, clock, onReadmitted);
    }

    private static BalancedEndpoint? PickSlow(
        BalancedEndpoint[] endpoints, uint start, BalancedEndpoint first, IReadOnlyCollection<BalancedEndpoint>? exclude, TimeProvider clock, Action<BalancedEndpoint>? onReadmitted)
    {
        var n = endpoints.Length;
        var now = clock.GetTimestamp();
        if ((exclude is null || !Contains(exclude, first)) && first.IsAvailable(now, out var firstReadmitted))
        {
            if (firstReadmitted)
            {
                onReadmitted?.Invoke(first);
            }

            first.CountPick();
            return first;
        }

        // The start endpoint is ejected or excluded: count the candidates that can be sent to now, then go round
        // robin over those alone. Probing forward from the start instead would hand an ejected endpoint's whole
        // share to its next neighbour.
        BalancedEndpoint? soonest = null;
        var available = 0u;
        for (var i = 0; i < n; i++)
        {
            var e = endpoints[i];
            if (exclude is not null && Contains(exclude, e))
            {
                continue;
            }

            if (e.IsAvailable(now, out var readmitted))
            {
                if (readmitted)
                {
                    onReadmitted?.Invoke(e);
                }

                available++;
            }
            else if (soonest is null || e.EjectedUntil < soonest.EjectedUntil)
            {
                soonest = e;
            }
        }

        BalancedEndpoint? picked = null;
        if (available > 0)
        {
            // The round number plus the start position: the starts that land on one unavailable endpoint are n
            // apart, so start % available alone could keep choosing the same candidate (n = 4, available = 2).
            var target = ((start / (uint)n) + (start % (uint)n)) % available;
            var seen = 0u;
            for (var i = 0; i < n; i++)
            {
                var e = endpoints[i];
                if ((exclude is not null && Contains(exclude, e)) || !e.IsAvailable(now, out _))
                {
                    continue;
                }

                picked = e; // the last available one if another thread ejected the target meanwhile
                if (seen++ == target)
                {
                    break;
                }
            }
        }

        // Every candidate changed state under us (ejected by other threads between the two passes): there is still
        // something to send to unless every endpoint is excluded, so take the first one from the start position.
        picked ??= soonest ?? FirstNotExcluded(endpoints, start, exclude);
        picked?.CountPick();
        return picked;
    }

    private static BalancedEndpoint? FirstNotExcluded(BalancedEndpoint[] endpoints, uint start, IReadOnlyCollection<BalancedEndpoint>? exclude)
    {
        var n = (uint)endpoints.Length;
        for (var i = 0u; i < n; i++)
        {
            var e = endpoints[(start + i) % n];
            if (exclude is null || !Contains(exclude, e))
            {
                return e;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="exclude"/> holds <paramref name="e"/> (by reference; no allocation, unlike LINQ over the interface).</summary>
    internal static bool Contains(IReadOnlyCollection<BalancedEndpoint> exclude, BalancedEndpoint e)
    {
        foreach (var x in exclude)
        {
            if (ReferenceEquals(x, e))
            {
                return true;
            }
        }

        return false;
    }
}
