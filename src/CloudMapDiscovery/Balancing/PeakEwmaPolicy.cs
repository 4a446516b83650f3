using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>Of two random candidates, the one with the lower cost: its peak-sensitive latency estimate times (requests in flight + 1).</summary>
/// <remarks>
/// Finagle's peak EWMA: a slower sample replaces the estimate at once, a faster one moves it by the time since the
/// last sample (decay <see cref="Decay"/>), and an estimate nothing updates decays towards zero, so that a task that
/// was slow gets a request again once its estimate meets its peers'. Latency is the time to the response headers.
/// </remarks>
internal sealed class PeakEwmaPolicy : TwoChoicesPolicy
{
    /// <summary>The decay time of the estimate (Finagle's default).</summary>
    public static readonly TimeSpan Decay = TimeSpan.FromSeconds(10);

    public PeakEwmaPolicy(CloudMapContext context)
    {
        Tau = context.ToCoarseTicks(Decay);
    }

    /// <summary>The decay time in the context's coarse ticks.</summary>
    public double Tau { get; }

    public override bool MeasuresLatency => true;

    // Both estimates decay at the same rate, so their order at any moment is their order at the later of their two
    // last samples: one exponential (none when they were taken at the same time) and no clock read per pick.
    protected override BalancedEndpoint Better(BalancedEndpoint a, BalancedEndpoint b)
    {
        var (costA, stampA) = a.Load.RawCost();
        var (costB, stampB) = b.Load.RawCost();
        if (stampA > stampB)
        {
            costB *= Math.Exp((stampB - stampA) / Tau);
        }
        else if (stampB > stampA)
        {
            costA *= Math.Exp((stampA - stampB) / Tau);
        }

        return costB < costA ? b : a;
    }
}
