namespace CloudMapDiscovery.Balancing;

/// <summary>
/// Round robin over an immutable snapshot. The counter lives with the service (not the snapshot), starts at a
/// random value so that processes started together do not all begin with the same task, and is read modulo the
/// current snapshot's length, so a set that shrinks under it can never index out of range. Overflow wraps in
/// unsigned arithmetic.
/// </summary>
internal static class RoundRobinPicker
{
    /// <summary>
    /// Picks the next available endpoint not in <paramref name="exclude"/>. When every candidate is ejected, picks
    /// the one whose ejection ends soonest (fail open: a request is never failed without trying).
    /// Returns <see langword="null"/> only when every endpoint is excluded.
    /// </summary>
    public static ServiceEndpoint? Pick(ServiceEndpoint[] endpoints, ref uint counter, IReadOnlyCollection<ServiceEndpoint>? exclude, TimeProvider clock, Action<ServiceEndpoint>? onReadmitted)
    {
        var n = endpoints.Length;
        if (n == 0)
        {
            return null;
        }

        var start = Interlocked.Increment(ref counter) % (uint)n;
        var first = endpoints[start];
        if (first.EjectedUntil == 0 && exclude is null)
        {
            first.CountPick();
            return first;
        }

        var now = clock.GetTimestamp();
        ServiceEndpoint? soonest = null;
        for (uint i = 0; i < n; i++)
        {
            var e = endpoints[(start + i) % (uint)n];
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

                e.CountPick();
                return e;
            }

            if (soonest is null || e.EjectedUntil < soonest.EjectedUntil)
            {
                soonest = e;
            }
        }

        soonest?.CountPick();
        return soonest;
    }

    private static bool Contains(IReadOnlyCollection<ServiceEndpoint> exclude, ServiceEndpoint e)
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
