using System.Runtime.CompilerServices;

namespace CloudMapDiscovery.Balancing;

/// <summary>A pick in its steps: the policy chooses among the available endpoints; with none available, a first attempt panics and chooses among all.</summary>
/// <remarks>
/// Panic spreads the requests over every endpoint by the same policy, instead of sending them all to one (the one whose
/// ejection ends soonest), which would then stay the only one in rotation. A retry never panics: it would dial an
/// address already known to fail.
/// </remarks>
internal static class EndpointPicker
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BalancedEndpoint? Pick(
        BalancedEndpoint[] endpoints, ref uint counter, PickPolicy policy, IReadOnlyCollection<BalancedEndpoint>? exclude, bool panic, TimeProvider clock, Action<BalancedEndpoint>? onReadmitted)
    {
        var available = new Candidates(clock, exclude, onReadmitted, panic: false);
        var picked = policy.Choose(endpoints, ref counter, ref available);
        if (picked is null && panic)
        {
            var all = new Candidates(clock, exclude, onReadmitted: null, panic: true);
            picked = policy.Choose(endpoints, ref counter, ref all);
        }

        picked?.CountPick();
        return picked;
    }
}
