namespace CloudMapDiscovery.Balancing;

/// <summary>The trials a service's endpoints have on offer: an endpoint ejected for its responses whose ejection is over gets exactly one request, which re-admits it or ejects it again.</summary>
/// <remarks>
/// Owned by its balancer. The count is a hint that keeps the pick path to one read while nothing is on offer; a pick
/// that finds it stale (the address left, a success ended the ejection) makes it true again.
/// </remarks>
internal sealed class TrialOffers
{
    private int _offered;

    /// <summary>Whether a trial may be on offer.</summary>
    public bool Any => Volatile.Read(ref _offered) != 0;

    /// <summary>The ejection of <paramref name="endpoint"/> is over: its next request is a trial; returns whether one was offered.</summary>
    public bool Offer(BalancedEndpoint endpoint)
    {
        if (!endpoint.OfferTrial())
        {
            return false;
        }

        Interlocked.Increment(ref _offered);
        return true;
    }

    /// <summary>Takes a trial on offer in <paramref name="set"/> for one request, if one is not excluded.</summary>
    public BalancedEndpoint? Take(BalancedSet set, IReadOnlyCollection<BalancedEndpoint>? exclude)
    {
        var hint = Volatile.Read(ref _offered);
        var offered = 0;
        foreach (var e in set.Endpoints)
        {
            if (!e.TrialOffered)
            {
                continue;
            }

            offered++;
            if ((exclude is null || !exclude.Contains(e)) && e.TryTakeTrial())
            {
                Interlocked.Decrement(ref _offered);
                e.CountPick();
                return e;
            }
        }

        // Reset only if no offer came while the endpoints were read: an endpoint offered after its turn in the loop
        // has already counted itself, and a plain write of 0 would lose it (no pick would look for it again, and the
        // endpoint would wait for its trial for ever).
        if (offered == 0)
        {
            Interlocked.CompareExchange(ref _offered, 0, hint);
        }

        return null;
    }

    /// <summary>A trial request ended with no verdict (its caller cancelled): the trial is offered again.</summary>
    public void Release(BalancedEndpoint endpoint)
    {
        if (endpoint.ReleaseTrial())
        {
            Interlocked.Increment(ref _offered);
        }
    }

    /// <summary>Counts the trials on offer in a new set.</summary>
    /// <remarks>Like a reset in <see cref="Take"/>, written only if no offer came meanwhile (a stale count is only a wasted look).</remarks>
    public void Recount(BalancedEndpoint[] endpoints)
    {
        var hint = Volatile.Read(ref _offered);
        Interlocked.CompareExchange(ref _offered, endpoints.Count(e => e.TrialOffered), hint);
    }
}
