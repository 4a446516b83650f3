using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>One task address with its health.</summary>
/// <remarks>
/// The same instance lives across DNS refreshes while the address stays in the endpoint set, so a dead address that DNS
/// still lists stays ejected. Health is changed under a lock (failures are rare); the pick path reads it without one.
/// </remarks>
internal sealed class BalancedEndpoint
{
    private readonly object _gate = new();
    private long _ejectedUntil;          // clock timestamp; 0 when not ejected
    private int _consecutiveFailures;
    private int _ejections;              // consecutive ejections without a success in between
    private long _picks;
    private volatile bool _awaitingProbe; // no re-admission by time: only a successful probe (or request) ends the hold
    private volatile bool _left;
    private volatile EjectionReason _reason;
    private int _trial;                  // TrialNone, TrialOnOffer or TrialTaken

    private const int TrialNone = 0;
    private const int TrialOnOffer = 1;
    private const int TrialTaken = 2;

    public BalancedEndpoint(EndpointAddress address)
    {
        Address = address;
    }

    public EndpointAddress Address { get; }

    /// <summary>Requests in flight, latency estimate and failure-rate window.</summary>
    public EndpointLoad Load { get; } = new();

    /// <summary>Why the endpoint is out of the rotation (<see cref="EjectionReason.None"/> once it is back).</summary>
    public EjectionReason Reason => EjectedUntil == 0 ? EjectionReason.None : _reason;

    /// <summary>Whether it is out for what its responses showed (the ejection budget counts these), not for a failed connect.</summary>
    public bool IsOutForResponses => Reason is not (EjectionReason.None or EjectionReason.Connect or EjectionReason.New);

    /// <summary>Whether its ejection is over and it waits for one trial request to come back.</summary>
    public bool TrialOffered => Volatile.Read(ref _trial) == TrialOnOffer;

    /// <summary>True when only the MULTIVALUE merge keeps the address in the set, not the latest DNS answer.</summary>
    public bool IsMerged { get; set; }

    /// <summary>The Cloud Map instance behind the address, when the source names it (the API), with its attributes.</summary>
    public EndpointInstance? Instance { get; set; }

    /// <summary>Where the endpoint is seen from the caller: <c>local</c>, <c>cross_zone</c>, or <see langword="null"/> when either zone is unknown.</summary>
    /// <remarks>Set by the balancer with each set's zone plan; requests only read it (the <c>cloudmap.zone.locality</c> tag).</remarks>
    public string? Locality { get; set; }

    /// <summary>
    /// A slot for the layer above (the HTTP handler keeps its per-address routing cache here), so that the hot path
    /// finds it without a lookup.
    /// </summary>
    /// <remarks>Balancing never reads it.</remarks>
    public object? RouteCache { get; set; }

    public long EjectedUntil => Volatile.Read(ref _ejectedUntil);

    /// <summary>
    /// True while the endpoint waits for a background connect to succeed before it takes requests (a new address, or an
    /// ejected one).
    /// </summary>
    /// <remarks>
    /// It stays out of the rotation past <see cref="EjectedUntil"/>, which is then when its next probe runs.
    /// </remarks>
    public bool AwaitingProbe => _awaitingProbe;

    /// <summary>The probe of this endpoint, if one is scheduled or running (the balancer's prober owns it).</summary>
    internal EndpointProbe? Probe { get; set; }

    /// <summary>Set when the address left DNS and its balancer forgot it.</summary>
    /// <remarks>A request still running may report on it afterwards; nothing is probed for it any more.</remarks>
    public bool HasLeft => _left;

    /// <summary>The address left DNS: its balancer forgets it.</summary>
    public void Leave() => _left = true;

    /// <summary>Whether the endpoint is ejected at <paramref name="now"/> (without re-admitting it).</summary>
    public bool IsEjectedAt(long now) => EjectedUntil is var until && until != 0 && now < until;

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    public int Ejections => Volatile.Read(ref _ejections);

    public long Picks => Volatile.Read(ref _picks);

    // A diagnostic count, not a correctness one: a plain increment keeps the pick free of a second atomic operation,
    // at the price of a lost count now and then when two threads pick the same endpoint at once.
    public void CountPick() => _picks++;

    /// <summary>Whether a request may be sent here now.</summary>
    /// <remarks>Re-admission is lazy: an expired ejection is cleared by the first reader that sees it.</remarks>
    public bool IsAvailable(long now, out bool readmitted)
    {
        readmitted = false;
        var until = Volatile.Read(ref _ejectedUntil);
        if (until == 0)
        {
            return true;
        }

        if (now < until || _awaitingProbe)
        {
            return false;
        }

        readmitted = Interlocked.CompareExchange(ref _ejectedUntil, 0, until) == until;
        return true;
    }

    /// <summary>
    /// Counts a failure at <paramref name="now"/>; returns the ejection time when this failure ejected the endpoint.
    /// </summary>
    /// <remarks>
    /// An ejection for a connect failure ends through a probe when <paramref name="probeConnects"/> (else by time); any
    /// other ends only through a trial request or a health check, since the task accepts connections. Without
    /// <paramref name="budgetLeft"/> a failure that reaches its threshold for a reason other than a connect is counted
    /// but ejects nothing, and <paramref name="budgetSpent"/> says so.
    /// </remarks>
    public TimeSpan? ReportFailure(FailureCause cause, long now, EjectionSettings policy, CloudMapContext context, bool probeConnects, bool budgetLeft, out bool budgetSpent)
    {
        budgetSpent = false;
        lock (_gate)
        {
            _consecutiveFailures++;
            Volatile.Write(ref _trial, TrialNone); // a trial that failed ejects again, for longer, below

            // Once ejected (and not since vouched for by a success), the next failure of any kind ejects again.
            var threshold = _ejections > 0 ? 1 : policy.Threshold(cause);
            if (_consecutiveFailures < threshold || (_ejectedUntil != 0 && now < _ejectedUntil))
            {
                return null;
            }

            var reason = EjectionReasons.ReasonOf(cause);
            if (reason != EjectionReason.Connect && !budgetLeft)
            {
                budgetSpent = _consecutiveFailures == threshold; // said once per streak, not at every failure after it
                return null;
            }

            // The failure count is kept (not reset) so that after re-admission the very next failure ejects again, for
            // longer: re-admitting into a fresh failure window is what makes a dead endpoint flap (dotnet/yarp#1082).
            _reason = reason;
            _awaitingProbe = reason != EjectionReason.Connect || probeConnects;
            return EjectLocked(now, policy, context);
        }
    }

    /// <summary>Ejects the endpoint for its failure share (see <c>FailureRateDetector</c>); <see langword="null"/> when it is out already.</summary>
    public TimeSpan? EjectForFailureRate(long now, EjectionSettings policy, CloudMapContext context)
    {
        lock (_gate)
        {
            if (_ejectedUntil != 0)
            {
                return null;
            }

            _reason = EjectionReason.FailureRate;
            _awaitingProbe = true;
            Volatile.Write(ref _trial, TrialNone);
            return EjectLocked(now, policy, context);
        }
    }

    /// <summary>Its ejection is over: the next request may try it (once); returns whether a trial was offered.</summary>
    public bool OfferTrial()
    {
        lock (_gate)
        {
            if (_ejectedUntil == 0 || !_awaitingProbe)
            {
                return false;
            }

            return Interlocked.CompareExchange(ref _trial, TrialOnOffer, TrialNone) == TrialNone;
        }
    }

    /// <summary>Takes the offered trial for one request; only one taker wins.</summary>
    public bool TryTakeTrial() => Interlocked.CompareExchange(ref _trial, TrialTaken, TrialOnOffer) == TrialOnOffer;

    /// <summary>The trial request ended without a verdict (cancelled by its caller): the trial is offered again.</summary>
    public bool ReleaseTrial() => Interlocked.CompareExchange(ref _trial, TrialOnOffer, TrialTaken) == TrialTaken;

    /// <summary>A new address that must pass a probe before its first request; its probe time is now (the soonest, should every endpoint be held).</summary>
    public void HoldForProbe(long now)
    {
        lock (_gate)
        {
            _awaitingProbe = true;
            _reason = EjectionReason.New;
            _ejectedUntil = now == 0 ? 1 : now;
        }
    }

    /// <summary>The probe could not connect: ejected again, one step longer, until the next probe.</summary>
    public TimeSpan ProbeFailed(long now, EjectionSettings policy, CloudMapContext context)
    {
        lock (_gate)
        {
            _consecutiveFailures++;
            _awaitingProbe = true;
            if (_reason is EjectionReason.None or EjectionReason.New)
            {
                _reason = EjectionReason.Connect; // a new address held back whose first probe failed
            }

            return EjectLocked(now, policy, context);
        }
    }

    /// <summary>Puts the endpoint back in the rotation after its probe connected.</summary>
    /// <remarks>
    /// The failure count is kept, as for a re-admission by time, so that a task that accepts connections but fails
    /// requests is ejected again at its next failure.
    /// </remarks>
    public void ProbeSucceeded()
    {
        lock (_gate)
        {
            _awaitingProbe = false;
            _ejectedUntil = 0;
            _reason = EjectionReason.None;
            Volatile.Write(ref _trial, TrialNone);
        }
    }

    private TimeSpan EjectLocked(long now, EjectionSettings policy, CloudMapContext context)
    {
        _ejections++;
        var duration = policy.EjectionTime(_ejections, forResponses: _reason is not (EjectionReason.Connect or EjectionReason.New));
        _ejectedUntil = now + context.ToTicks(duration);
        if (_ejectedUntil == 0)
        {
            _ejectedUntil = 1;
        }

        return duration;
    }

    /// <summary>A success clears the failure count and the ejection multiplier; returns whether there was anything to clear.</summary>
    public bool ReportSuccess()
    {
        if (Volatile.Read(ref _consecutiveFailures) == 0 && Volatile.Read(ref _ejections) == 0 && Volatile.Read(ref _ejectedUntil) == 0)
        {
            return false; // the common case stays free of locks and writes
        }

        lock (_gate)
        {
            // A success also ends an ejection or a probe hold: when every endpoint was held back and this one was tried
            // anyway (fail open), it has just proved itself, and should not stay the only one chosen.
            _consecutiveFailures = 0;
            _ejections = 0;
            _ejectedUntil = 0;
            _awaitingProbe = false;
            _reason = EjectionReason.None;
            Volatile.Write(ref _trial, TrialNone);
        }

        return true;
    }

    public override string ToString() => Address.ToString();
}
