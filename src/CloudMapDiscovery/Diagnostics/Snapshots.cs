namespace CloudMapDiscovery.Diagnostics;

/// <summary>The state of one endpoint in a diagnostic snapshot.</summary>
public enum EndpointState
{
    /// <summary>Receives requests.</summary>
    Healthy,

    /// <summary>Skipped until <see cref="EndpointSnapshot.EjectedUntil"/> after failing (unless no endpoint is available: then requests spread over all).</summary>
    Ejected,

    /// <summary>
    /// Skipped until a background check of it succeeds (a connect, or a GET of <c>HealthCheckPath</c>), or its trial
    /// request does: a new address while the service has healthy ones, or an ejected one whose ejection time is over.
    /// </summary>
    Probing,
}

/// <summary>One endpoint of a service as the balancer sees it.</summary>
/// <param name="Address">The IP address.</param>
/// <param name="Port">The port from SRV; <see langword="null"/> when the request's port is used.</param>
/// <param name="State">Healthy or ejected.</param>
/// <param name="ConsecutiveFailures">Failures since the last success.</param>
/// <param name="EjectedUntil">When the ejection ends, for an ejected endpoint.</param>
/// <param name="RequestsPicked">How many requests were sent here.</param>
/// <param name="Merged">True when the endpoint is kept from an earlier MULTIVALUE answer, not the latest one.</param>
public sealed record EndpointSnapshot(
    string Address,
    int? Port,
    EndpointState State,
    int ConsecutiveFailures,
    DateTimeOffset? EjectedUntil,
    long RequestsPicked,
    bool Merged)
{
    /// <summary>Gets the Cloud Map instance id, when the source names it (the API source), else <see langword="null"/>.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Gets the instance's attributes (such as <c>AVAILABILITY_ZONE</c>), when the source gives them (the API source).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    /// <summary>Gets the requests sent here whose response headers (or failure) have not come back yet.</summary>
    public int InFlight { get; init; }

    /// <summary>Gets the peak-sensitive latency estimate to response headers, decayed to now; <see langword="null"/> before the first sample.</summary>
    /// <remarks>Kept under every policy for requests whose client uses <see cref="LoadBalancingPolicy.PeakEwma"/>; others do not time their requests.</remarks>
    public TimeSpan? LatencyEstimate { get; init; }

    /// <summary>Gets why the endpoint is out of the rotation (<c>connect</c>, <c>transport</c>, <c>tls</c>, <c>server_errors</c>, <c>failure_rate</c>); <see langword="null"/> while it is in.</summary>
    public string? EjectionReason { get; init; }

    /// <summary>Gets whether its ejection is over and its next request is the trial that re-admits it or ejects it again.</summary>
    public bool AwaitingTrial { get; init; }

    /// <summary>Gets the endpoint's Availability Zone, when the source gives it (the API's <c>AVAILABILITY_ZONE</c>).</summary>
    public string? Zone { get; init; }

    /// <summary>Gets <c>local</c> or <c>cross_zone</c> as seen from the caller's zone, or <see langword="null"/> when either zone is unknown.</summary>
    public string? Locality { get; init; }
}

/// <summary>One discovered service: its endpoints and its cache state.</summary>
/// <param name="Host">The host name.</param>
/// <param name="RecordTypes">Which records name its endpoints.</param>
/// <param name="Endpoints">The endpoints in the current answer.</param>
/// <param name="Ttl">The TTL in force after the floor and cap.</param>
/// <param name="LastRefresh">When DNS last answered.</param>
/// <param name="UsableUntil">When the answer stops being used (expiry, or the end of MaxStale while DNS is failing).</param>
/// <param name="IsStale">True while DNS is failing and the last good answer is being served.</param>
/// <param name="NoInstancesReason">What DNS said when it said there are no instances.</param>
/// <param name="LastError">The last DNS failure, until the next success.</param>
public sealed record ServiceSnapshot(
    string Host,
    DiscoveryRecordTypes RecordTypes,
    IReadOnlyList<EndpointSnapshot> Endpoints,
    TimeSpan? Ttl,
    DateTimeOffset? LastRefresh,
    DateTimeOffset? UsableUntil,
    bool IsStale,
    string? NoInstancesReason,
    string? LastError)
{
    /// <summary>Gets the request port whose endpoint health this snapshot shows (health is per address and port); <see langword="null"/> for SRV or a resolution-only consumer.</summary>
    public int? RequestPort { get; init; }

    /// <summary>Gets the caller's own Availability Zone as zone-aware routing sees it, when known.</summary>
    public string? CallerZone { get; init; }

    /// <summary>Gets whether requests to this service prefer the caller's zone.</summary>
    public bool ZoneRouting { get; init; }

    /// <summary>Gets what zone-aware routing does for this service, or why it is off; <see langword="null"/> when its endpoints carry no zones.</summary>
    public string? ZoneRoutingReason { get; init; }
}
