namespace CloudMapDiscovery.Balancing;

/// <summary>Two distinct candidates drawn at random; the one a subclass prefers wins.</summary>
/// <remarks>
/// Distinct, as gRFC A48 asks: drawing the same endpoint twice would be a blind random pick. When either draw is not a
/// candidate, the two are drawn again among the candidates alone (a walk of the set, only while some are out).
/// </remarks>
internal abstract class TwoChoicesPolicy : PickPolicy
{
    public override BalancedEndpoint? Choose(BalancedEndpoint[] endpoints, ref uint counter, ref Candidates candidates)
    {
        var n = endpoints.Length;
        if (n < 2)
        {
            return n == 1 && candidates.Includes(endpoints[0]) ? endpoints[0] : null;
        }

        var i = Random.Shared.Next(n);
        var j = Random.Shared.Next(n - 1);
        if (j >= i)
        {
            j++;
        }

        var a = endpoints[i];
        var b = endpoints[j];
        return candidates.Includes(a) && candidates.Includes(b) ? Better(a, b) : ChooseAmong(endpoints, ref candidates);
    }

    /// <summary>The one of two distinct candidates to send to.</summary>
    protected abstract BalancedEndpoint Better(BalancedEndpoint a, BalancedEndpoint b);

    private BalancedEndpoint? ChooseAmong(BalancedEndpoint[] endpoints, ref Candidates candidates)
    {
        var available = candidates.Count(endpoints);
        if (available < 2)
        {
            return available == 0 ? null : candidates.Nth(endpoints, 0);
        }

        var i = Random.Shared.Next(available);
        var j = Random.Shared.Next(available - 1);
        if (j >= i)
        {
            j++;
        }

        var a = candidates.Nth(endpoints, i);
        var b = candidates.Nth(endpoints, j);
        return a is null || b is null ? a ?? b : Better(a, b);
    }
}

/// <summary>Of two random candidates, the one with fewer requests in flight.</summary>
internal sealed class PowerOfTwoChoicesPolicy : TwoChoicesPolicy
{
    protected override BalancedEndpoint Better(BalancedEndpoint a, BalancedEndpoint b) => b.Load.InFlight < a.Load.InFlight ? b : a;
}
