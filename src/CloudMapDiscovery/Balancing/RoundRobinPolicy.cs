namespace CloudMapDiscovery.Balancing;

/// <summary>Round robin over the candidates.</summary>
/// <remarks>
/// The counter lives with the service (not the set), starts at a random value so that processes started together do
/// not all begin with the same task, and is read modulo the current set's length, so a set that shrinks under it can
/// never index out of range. Overflow wraps in unsigned arithmetic.
/// </remarks>
internal sealed class RoundRobinPolicy : PickPolicy
{
    public static readonly RoundRobinPolicy Instance = new();

    public override BalancedEndpoint? Choose(BalancedEndpoint[] endpoints, ref uint counter, ref Candidates candidates)
    {
        var n = endpoints.Length;
        if (n == 0)
        {
            return null;
        }

        // The common case: one atomic increment, one read of the ejection state.
        var start = Interlocked.Increment(ref counter);
        var first = endpoints[start % (uint)n];
        return candidates.Includes(first) ? first : ChooseAmong(endpoints, start, ref candidates);
    }

    // The start endpoint is not a candidate: count the candidates, then go round robin over those alone. Probing forward
    // from the start instead would hand an ejected endpoint's whole share to its next neighbour.
    private static BalancedEndpoint? ChooseAmong(BalancedEndpoint[] endpoints, uint start, ref Candidates candidates)
    {
        var available = candidates.Count(endpoints);
        if (available == 0)
        {
            return null;
        }

        // The round number plus the start position: the starts that land on one unavailable endpoint are n apart, so
        // start % available alone could keep choosing the same candidate (n = 4, available = 2).
        var n = (uint)endpoints.Length;
        var target = ((start / n) + (start % n)) % (uint)available;
        return candidates.Nth(endpoints, (int)target);
    }
}
