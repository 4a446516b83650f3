namespace CloudMapDiscovery;

/// <summary>
/// Settings of Cloud Map discovery, bound from the configuration section <c>CloudMapDiscovery</c> (and
/// <c>CloudMapDiscovery:Clients:&lt;client name&gt;</c> for one named HttpClient).
/// </summary>
/// <remarks>
/// Clients whose DNS, cache and ejection settings are equal share one endpoint cache and one view of endpoint health.
/// Every default below says why it is what it is.
/// A client's options are read once, when its first handler is built, and kept until the service provider is disposed:
/// a configuration reload does not change them, also not in the handlers IHttpClientFactory builds again later. Clients
/// with equal settings share caches, so changed settings would mean another cache, entered at a handler rebuild nobody
/// chose; a restart applies new options. Bad options (shared, or of any client configured by name) fail at startup.
/// </remarks>
public sealed partial class CloudMapDiscoveryOptions
{
    /// <summary>The configuration section the options bind from.</summary>
    public const string SectionName = "CloudMapDiscovery";

    /// <summary>Gets or sets where endpoints come from: Cloud Map DNS or the DiscoverInstances API.</summary>
    /// <remarks>
    /// Default <see cref="CloudMapEndpointSourceKind.Dns"/>: no AWS credentials, no API quota. Use
    /// <see cref="CloudMapEndpointSourceKind.Api"/> for HTTP namespaces (ECS Service Connect's), more than 8 tasks,
    /// health status or attributes; it needs the CloudMapDiscovery.Api package (<c>AddCloudMapApi()</c>), and a client
    /// set to it without that package fails when its handler is built, naming this option: never a silent fall back to DNS.
    /// </remarks>
    public CloudMapEndpointSourceKind Source { get; set; } = CloudMapEndpointSourceKind.Dns;

    // ---- DNS ----

    /// <summary>
    /// Gets the name servers, as <c>ip</c> or <c>ip:port</c> (dotted-quad IPv4; IPv6 as <c>[ip]:port</c> or a bare
    /// address).
    /// </summary>
    /// <remarks>
    /// Empty (the default) reads /etc/resolv.conf, which on ECS and Fargate names the VPC resolver (base address +2 or
    /// 169.254.169.253). Shorthands such as <c>5353</c> or <c>127.1</c> fail validation.
    /// </remarks>
    public IList<string> NameServers { get; } = new List<string>();

    /// <summary>Gets or sets the wait for each DNS reply.</summary>
    /// <remarks>Default: resolv.conf's, else 2 s (see <see cref="Dns.DnsResolverOptions.Timeout"/>).</remarks>
    public TimeSpan? DnsTimeout { get; set; }

    /// <summary>Gets or sets the attempts per name server; default: resolv.conf's, else 2.</summary>
    public int? DnsAttempts { get; set; }

    /// <summary>Gets or sets which records name the endpoints.</summary>
    /// <remarks>
    /// Default <see cref="DiscoveryRecordTypes.A"/>: Cloud Map services for awsvpc tasks publish A records, and asking
    /// for AAAA as well would double the DNS load for nothing. Use <see cref="DiscoveryRecordTypes.Srv"/> for bridge or
    /// host networking (the port comes from DNS).
    /// </remarks>
    public DiscoveryRecordTypes RecordTypes { get; set; } = DiscoveryRecordTypes.A;

    // ---- Cache ----
    // The time limits below are kept by the cache's timer, which wakes at each refresh time: requests do not read
    // the clock while an answer is fresh. In a process frozen or with its thread pool starved past a limit, the
    // answer is served until the timer runs again (on thaw, at once).

    /// <summary>Gets or sets the shortest time an answer is kept.</summary>
    /// <remarks>
    /// Default 5 s: Cloud Map's sample publishes TTL 0, which must not turn into one query per request (the VPC
    /// resolver drops past 1,024 packets per second per interface), and 5 s still sees a new task within seconds, like
    /// Envoy's default refresh.
    /// </remarks>
    public TimeSpan MinTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the longest time an answer is kept.</summary>
    /// <remarks>
    /// Default 60 s: TTLs of 300 s appear in tutorials, and a client that honours them routes to replaced tasks for
    /// minutes after a deployment.
    /// </remarks>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Gets or sets how long past its expiry the last good answer is still used while DNS fails.</summary>
    /// <remarks>
    /// Default 5 min: long enough to ride out a resolver outage, short enough that a long-dead answer is not trusted
    /// forever.
    /// </remarks>
    public TimeSpan MaxStale { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the longest time an NXDOMAIN/NODATA answer (no instances) is kept.</summary>
    /// <remarks>
    /// Default 5 s: Cloud Map's negative TTL is 900 s, which would hide a scale-from-zero for 15 minutes.
    /// </remarks>
    public TimeSpan NegativeTtlCap { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long a host name may go unused before its cache entry (and its background refresh) is dropped;
    /// default 10 min.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Gets or sets how many host names the cache keeps at most; past it, the least recently used one is dropped;
    /// default 1,000.
    /// </summary>
    /// <remarks>
    /// A name is refreshed ahead of expiry only while requests use it, so a name asked for once (a typo, a one-off
    /// webhook host under <c>AddCloudMapDiscoveryToAllHttpClients()</c>) costs one query, then waits for eviction;
    /// this cap bounds the memory, balancers and metric series such names hold meanwhile.
    /// </remarks>
    public int MaxCachedNames { get; set; } = 1_000;

    /// <summary>
    /// Gets or sets whether to merge addresses across refreshes when an answer holds exactly
    /// <see cref="MultiValueAnswerLimit"/> records.
    /// </summary>
    /// <remarks>
    /// Default on: Route 53 MULTIVALUE answers with a random 8 of the healthy records, so a client of a larger service
    /// would otherwise spread its load over 8 tasks only. It is safe because a merged address that is no longer in the
    /// latest answer is dropped at its first failure and after <see cref="MultiValueRetention"/>.
    /// </remarks>
    public bool MergeMultiValueAnswers { get; set; } = true;

    /// <summary>
    /// Gets or sets the answer size that marks a possibly partial MULTIVALUE answer; default 8 (Route 53's limit).
    /// </summary>
    public int MultiValueAnswerLimit { get; set; } = 8;

    /// <summary>
    /// Gets or sets how long a merged address is kept after it was last seen in an answer; default 30 s.
    /// </summary>
    public TimeSpan MultiValueRetention { get; set; } = TimeSpan.FromSeconds(30);

    // ---- Ejection ----

    /// <summary>
    /// Gets or sets how many consecutive connection failures (refused, timed out, unreachable) eject an address.
    /// </summary>
    /// <remarks>
    /// Default 1: a failed connect is unambiguous, and a stopped Fargate task's address only ever times out.
    /// </remarks>
    public int ConsecutiveConnectFailures { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many consecutive connections broken after sending (or failed TLS handshakes) eject an address.
    /// </summary>
    /// <remarks>Default 3: such a failure may be the request's fault rather than the task's.</remarks>
    public int ConsecutiveFailures { get; set; } = 3;

    /// <summary>Gets or sets how many consecutive 5xx responses eject an address; 0 leaves status codes out of ejection.</summary>
    /// <remarks>
    /// Default 5, Envoy's <c>consecutive_5xx</c>: a task whose dependency broke answers 500 to everything while its
    /// connects succeed, and five in a row from one task while its peers answer is rare enough to be no accident. 4xx
    /// never count, and the response is returned to the caller as it is. A task ejected for its responses is
    /// re-admitted only by one trial request (or a health check, see <see cref="HealthCheckPath"/>), never by a connect.
    /// </remarks>
    public int ConsecutiveServerErrors { get; set; } = 5;

    /// <summary>
    /// Gets or sets the failure share (5xx and broken connections) over a 10 s window at which an address is ejected,
    /// when it is also at least twice its peers' share; 0 turns the detector off.
    /// </summary>
    /// <remarks>
    /// Default 0.3. Envoy's failure-percentage rule (with a peer comparison) rather than its success-rate one: mean minus
    /// 1.9 standard deviations needs at least five hosts to mean anything, and most ECS services run two or three tasks.
    /// The consecutive rule already catches a task that fails nearly everything; this one catches the intermittent
    /// one (at 50 % failures, five in a row come in about 3 % of runs of five), and the peer comparison keeps a
    /// service-wide error rate (a shared database down) from ejecting anyone.
    /// </remarks>
    public double FailureRateThreshold { get; set; } = 0.3;

    /// <summary>Gets or sets how many requests an address must have answered in the window before its failure share is judged.</summary>
    /// <remarks>Default 20: fewer would eject on a handful of unlucky requests; Envoy's 50 would never be reached by a service called once a second.</remarks>
    public int FailureRateMinimumRequests { get; set; } = 20;

    /// <summary>
    /// Gets or sets the largest share, in percent, of a service's addresses that may be out for their responses
    /// (5xx, broken connections, TLS, failure rate) at once; at least one always may.
    /// </summary>
    /// <remarks>
    /// Default 50: two tasks may lose one, three may lose one, ten may lose five. A majority answering errors is a
    /// service-wide failure (a shared dependency) that ejection cannot fix and would only concentrate on the rest.
    /// Envoy's 10 % (at least one) also allows one of two or three tasks, but only one of ten. Addresses out for failed
    /// connects do not count: a dead task is dead whatever its peers do.
    /// </remarks>
    public int MaxEjectionPercent { get; set; } = 50;

    /// <summary>
    /// Gets or sets the first ejection time; the n-th consecutive ejection lasts n times this, up to
    /// <see cref="MaxEjectionTime"/>, with ±10 % jitter.
    /// </summary>
    /// <remarks>
    /// Default 10 s: ECS takes about 30 s to pull an unhealthy task out of DNS, so a dead address is probed a few times
    /// at most before it leaves.
    /// </remarks>
    public TimeSpan BaseEjectionTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the longest ejection; default 2 min.</summary>
    public TimeSpan MaxEjectionTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets whether an ejected address is re-admitted only after a background TCP connect to it succeeds,
    /// instead of when its ejection time is over.
    /// </summary>
    /// <remarks>
    /// Default on: a stopped Fargate task's address usually times out rather than refusing, so a blind re-admission
    /// makes a request wait out <see cref="ConnectTimeout"/> on it again at the end of every ejection. The probe runs
    /// at the end of the ejection (which is jittered), at most one per address at a time, bounded by
    /// <see cref="ConnectTimeout"/>; a failed probe ejects the address again, for longer. Turn it off only where a bare
    /// TCP connect says nothing about the task (a proxy that accepts every connection in front of it, say). An SRV
    /// address is probed on its own port; an A/AAAA address on the port of the service's latest request (clients with
    /// equal settings share one balancer per name, so with requests to one name on two ports, the probe goes to
    /// whichever was used last).
    /// </remarks>
    public bool ProbeEjectedEndpoints { get; set; } = true;

    /// <summary>
    /// Gets or sets whether an address that appears in DNS while the service already has healthy ones gets its first
    /// request only after a background TCP connect to it succeeds.
    /// </summary>
    /// <remarks>
    /// Default on: DNS can list an address whose task is not reachable yet or any more (deregistration lags, a task is
    /// still starting), and the probe spares a request the connect timeout. It costs a new task one connect round trip
    /// (well under a millisecond inside a VPC) before it takes traffic. With no healthy address to fall back on (a cold
    /// start), new addresses are used at once.
    /// </remarks>
    public bool ProbeNewEndpoints { get; set; } = true;

    /// <summary>Gets or sets the path of the tasks' health endpoint (e.g. <c>/health</c>); when set, every probe is an HTTP GET of it that must answer 2xx.</summary>
    /// <remarks>
    /// Default none: probes are TCP connects, and a task ejected for its responses is re-admitted by one trial request.
    /// With a path, re-admission of every kind waits for a 2xx from it (like YARP's active health checks), sent with the
    /// service's Host header within <see cref="ConnectTimeout"/> (2 s when that is null).
    /// </remarks>
    public string? HealthCheckPath { get; set; }

    // ---- HTTP (per client) ----

    /// <summary>Gets or sets how a request chooses among the available addresses.</summary>
    /// <remarks>
    /// Default <see cref="LoadBalancingPolicy.RoundRobin"/>: an even split is what this library has always promised.
    /// <see cref="LoadBalancingPolicy.PowerOfTwoChoices"/> and <see cref="LoadBalancingPolicy.PeakEwma"/> steer
    /// requests away from a slow task. Ejection, panic, probes and retries apply under every policy.
    /// </remarks>
    public LoadBalancingPolicy LoadBalancer { get; set; }


    /// <summary>Gets or sets the most attempts one request makes, each on a different address.</summary>
    /// <remarks>Default 3. Fewer are made when fewer addresses exist. Set 1 to turn retries off.</remarks>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// Gets or sets the connect timeout applied to the primary <see cref="System.Net.Http.SocketsHttpHandler"/>.
    /// </summary>
    /// <remarks>
    /// Default 2 s: connects to a stopped Fargate task time out rather than being refused, and .NET's own default is
    /// infinite. <see langword="null"/> leaves the handler's setting alone. Not applied when you supply your own
    /// primary handler.
    /// </remarks>
    public TimeSpan? ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets the DNS suffixes of the host names to discover, such as <c>internal</c> or <c>local</c>.</summary>
    /// <remarks>Empty (the default): every host name that is not an IP literal or <c>localhost</c>.</remarks>
    public IList<string> HostSuffixes { get; } = new List<string>();

    /// <summary>
    /// Gets or sets the domain appended to single-label host names (<c>http://api</c> becomes
    /// <c>api.&lt;domain&gt;</c>).
    /// </summary>
    /// <remarks>Default: the <c>COPILOT_SERVICE_DISCOVERY_ENDPOINT</c> environment variable, if set.</remarks>
    public string? ServiceDiscoveryDomain { get; set; } = Environment.GetEnvironmentVariable("COPILOT_SERVICE_DISCOVERY_ENDPOINT");
}

/// <summary>Which DNS records name a service's endpoints.</summary>
public enum DiscoveryRecordTypes
{
    /// <summary>A records; the port comes from the request URI.</summary>
    A,

    /// <summary>AAAA records; the port comes from the request URI.</summary>
    Aaaa,

    /// <summary>A and AAAA records, asked in parallel; the port comes from the request URI.</summary>
    AAndAaaa,

    /// <summary>SRV records; the port and the target come from DNS (ECS bridge or host networking).</summary>
    Srv,
}
