using System.Runtime.CompilerServices;

namespace CloudMapDiscovery.Balancing;

/// <summary>The rule of which endpoints a pick may choose: the available ones not excluded, or in panic every one not excluded.</summary>
/// <remarks>
/// Available means not ejected, or ejected with its time over and nothing to wait for (no probe, no trial), in which case
/// the first reader re-admits it. The clock is read at most once per pick, and only when an endpoint is ejected or
/// something is excluded: the common case is one field read.
/// </remarks>
internal ref struct Candidates
{
    private readonly TimeProvider _clock;
    private readonly IReadOnlyCollection<BalancedEndpoint>? _exclude;
    private readonly Action<BalancedEndpoint>? _onReadmitted;
    private long _now;

    public Candidates(TimeProvider clock, IReadOnlyCollection<BalancedEndpoint>? exclude, Action<BalancedEndpoint>? onReadmitted, bool panic)
    {
        _clock = clock;
        _exclude = exclude;
        _onReadmitted = onReadmitted;
        Panic = panic;
    }

    /// <summary>Whether every endpoint not excluded counts, ejected or not (no endpoint was available).</summary>
    public bool Panic { get; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Includes(BalancedEndpoint e) => (e.EjectedUntil == 0 && _exclude is null) || IncludesSlow(e);

    /// <summary>How many of <paramref name="endpoints"/> are included.</summary>
    public int Count(BalancedEndpoint[] endpoints)
    {
        var count = 0;
        foreach (var e in endpoints)
        {
            if (Includes(e))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The included endpoint of rank <paramref name="rank"/> (0-based, in set order); the last included one if fewer are included by now.</summary>
    public BalancedEndpoint? Nth(BalancedEndpoint[] endpoints, int rank)
    {
        BalancedEndpoint? last = null;
        var seen = 0;
        foreach (var e in endpoints)
        {
            if (!Includes(e))
            {
                continue;
            }

            last = e;
            if (seen++ == rank)
            {
                break;
            }
        }

        return last;
    }

    private bool IncludesSlow(BalancedEndpoint e)
    {
        if (_exclude is not null && Contains(_exclude, e))
        {
            return false;
        }

        if (Panic || e.EjectedUntil == 0)
        {
            return true;
        }

        if (_now == 0)
        {
            _now = _clock.GetTimestamp();
        }

        if (!e.IsAvailable(_now, out var readmitted))
        {
            return false;
        }

        if (readmitted)
        {
            _onReadmitted?.Invoke(e);
        }

        return true;
    }

    private static bool Contains(IReadOnlyCollection<BalancedEndpoint> exclude, BalancedEndpoint e)
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
