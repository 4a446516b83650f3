namespace CloudMapDiscovery.Api;

/// <summary>
/// Settings of the Cloud Map API source, bound from <c>CloudMapDiscovery:Api</c> (and
/// <c>CloudMapDiscovery:Clients:&lt;client name&gt;:Api</c> for one named HttpClient).
/// </summary>
/// <remarks>
/// Used by clients whose <see cref="CloudMapDiscoveryOptions.Source"/> is <see cref="CloudMapEndpointSourceKind.Api"/>.
/// Clients with equal settings share one source, and so one <c>DiscoverInstancesRevision</c> call per name per
/// <see cref="CloudMapDiscoveryOptions.MinTtl"/>. Read once per client, like the discovery options.
/// </remarks>
public sealed class CloudMapApiOptions
{
    /// <summary>The configuration section the shared options bind from.</summary>
    public const string SectionName = "CloudMapDiscovery:Api";

    /// <summary>Gets or sets the AWS Region, such as <c>eu-west-1</c>.</summary>
    /// <remarks>Default: the <c>AWS_REGION</c> environment variable (ECS sets it in every task), else <c>AWS_DEFAULT_REGION</c>.</remarks>
    public string? Region { get; set; } = Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } region
        ? region
        : Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");

    /// <summary>Gets or sets an endpoint to call instead of <c>https://data-servicediscovery.&lt;Region&gt;.amazonaws.com/</c>, used as is.</summary>
    /// <remarks>For a PrivateLink endpoint, an emulator or a test server. Requests are still signed for <see cref="Region"/>.</remarks>
    public string? ServiceUrl { get; set; }

    /// <summary>Gets or sets which instances to ask for: <c>HEALTHY</c>, <c>UNHEALTHY</c>, <c>ALL</c> or <c>HEALTHY_OR_ELSE_ALL</c>.</summary>
    /// <remarks>
    /// Default <c>HEALTHY_OR_ELSE_ALL</c> (fail open): an ECS deployment has moments when no task reports healthy, and
    /// calling every task then beats calling none.
    /// </remarks>
    public string HealthStatus { get; set; } = "HEALTHY_OR_ELSE_ALL";

    /// <summary>Gets the attributes every instance must have (the API's <c>QueryParameters</c>), such as <c>version=2</c>.</summary>
    public IDictionary<string, string> QueryParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets attributes preferred when some instance has them (the API's <c>OptionalParameters</c>), else ignored.</summary>
    public IDictionary<string, string> OptionalParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Gets or sets the account that owns a namespace shared with this one (the API's <c>OwnerAccount</c>); default: this account's.</summary>
    public string? OwnerAccount { get; set; }

    /// <summary>Gets or sets how often the whole instance list is read even when its revision has not moved.</summary>
    /// <remarks>
    /// Default 30 s: the revision does not move when an instance's health changes, and Cloud Map itself takes about
    /// 30 s to apply a health change; reading more often would mostly pay for unchanged answers.
    /// </remarks>
    public TimeSpan HealthRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the most API calls per second this process makes, over all names and clients (a token bucket).</summary>
    /// <remarks>
    /// Default 10, with bursts of twice that: about 50 names at the default intervals. The quota (1,000 calls per
    /// second for <c>DiscoverInstances</c>, 3,000 for <c>DiscoverInstancesRevision</c>) is the account's and Region's,
    /// shared by the whole fleet; when the budget is spent, names keep their last good answer.
    /// </remarks>
    public double MaxCallsPerSecond { get; set; } = 10;

    /// <summary>Gets or sets the time one API call may take.</summary>
    /// <remarks>Default 5 s: a data-plane call answers in milliseconds; past this, the last good answer is served.</remarks>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
