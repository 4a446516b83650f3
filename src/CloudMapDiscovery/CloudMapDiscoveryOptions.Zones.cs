namespace CloudMapDiscovery;

/// <summary>The zone-aware routing settings of <see cref="CloudMapDiscoveryOptions"/>.</summary>
public sealed partial class CloudMapDiscoveryOptions
{
    // ---- Zone-aware routing ----

    /// <summary>Gets or sets whether requests stay in the caller's Availability Zone while it has the capacity.</summary>
    /// <remarks>
    /// Default on, because it only acts when it is safe to: both zones must be known (the caller's from
    /// <see cref="Zone"/>, the ECS task metadata endpoint or EC2's instance metadata; each endpoint's from the Cloud Map
    /// API's <c>AVAILABILITY_ZONE</c> attribute, so DNS sources are never zone-routed), the service must have at least
    /// <see cref="ZoneMinEndpoints"/> endpoints, and the caller's zone at least <see cref="ZoneMinHealthyLocal"/> available
    /// ones; otherwise every zone is used, as without it. Cross-zone traffic costs $0.01/GB each way plus a hop of
    /// latency, and round robin over three zones sends two thirds of the calls across. Turn it off when the callee's
    /// capacity per zone is very uneven or the caller's zone holds most callers but few callees.
    /// </remarks>
    public bool ZoneAware { get; set; } = true;

    /// <summary>Gets or sets this process's Availability Zone name, such as <c>eu-west-1a</c>.</summary>
    /// <remarks>
    /// Default <see langword="null"/>: asked, once and in the background, of the ECS task metadata endpoint
    /// (<c>ECS_CONTAINER_METADATA_URI_V4</c>), else of EC2's instance metadata service (IMDSv2), 1 s each. When set it
    /// wins, and nothing is asked. When neither answers and this is not set, zone routing is off (logged once).
    /// </remarks>
    public string? Zone { get; set; }

    /// <summary>Gets or sets this process's Availability Zone ID, such as <c>euw1-az1</c>.</summary>
    /// <remarks>
    /// Default <see langword="null"/>: EC2's instance metadata gives it; the ECS task metadata does not. Needed only for
    /// a namespace another account owns (the API's <c>OwnerAccount</c>): zone names are mapped per account, so such
    /// a name is zone-routed only when this and every instance's <c>AVAILABILITY_ZONE_ID</c> attribute are known.
    /// </remarks>
    public string? ZoneId { get; set; }

    /// <summary>Gets or sets the fewest endpoints a service needs before its requests are kept in the caller's zone.</summary>
    /// <remarks>
    /// Default 6, Envoy's minimum cluster size for zone-aware routing: below it a zone holds one or two tasks, and
    /// keeping a zone's callers on them concentrates load for little saving.
    /// </remarks>
    public int ZoneMinEndpoints { get; set; } = 6;

    /// <summary>Gets or sets how many available (not ejected) endpoints the caller's zone needs for requests to stay in it.</summary>
    /// <remarks>
    /// Default 2: with one ejection in a zone of three the requests stay local, while a lone survivor is never handed a
    /// whole zone's callers; below it the requests spread over every zone's available endpoints, so the survivor gets
    /// its fair share like any other. Ejection counts at once: no refresh is awaited.
    /// </remarks>
    public int ZoneMinHealthyLocal { get; set; } = 2;
}
