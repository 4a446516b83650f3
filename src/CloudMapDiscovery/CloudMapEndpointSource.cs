using System.Net;

namespace CloudMapDiscovery;

/// <summary>Where a client's endpoints come from: Cloud Map DNS (the default) or Cloud Map's DiscoverInstances API.</summary>
public enum CloudMapEndpointSourceKind
{
    /// <summary>Cloud Map DNS: A, AAAA or SRV records through the VPC resolver.</summary>
    Dns,

    /// <summary>Cloud Map's DiscoverInstances API, through the CloudMapDiscovery.Api package (<c>AddCloudMapApi()</c>).</summary>
    Api,
}

/// <summary>A source of a service's endpoints other than DNS, plugged in behind discovery's cache.</summary>
/// <remarks>
/// The cache calls it at most once at a time per name, about once per <see cref="CloudMapDiscoveryOptions.MinTtl"/>
/// (jittered) while the name is in use, and keeps everything else as for DNS: stale answers while it throws, a capped
/// negative answer, change tokens and balancers. A thrown exception is a failure (the last good answer is served);
/// <see cref="CloudMapSourceAnswer.NoInstances"/> is a negative answer. Each cache tracks the names it keeps
/// (<see cref="Track"/>) and lets go of a name it evicts, so a source's state per name is bounded as the cache is.
/// </remarks>
public interface ICloudMapEndpointSource
{
    /// <summary>The endpoints of <paramref name="host"/> now.</summary>
    /// <param name="host">The host name, lower case, without a trailing dot.</param>
    /// <param name="cancellationToken">Cancelled when the application stops.</param>
    /// <returns>The answer.</returns>
    Task<CloudMapSourceAnswer> ResolveAsync(string host, CancellationToken cancellationToken);

    /// <summary>Keeps what the source holds for <paramref name="host"/> until the returned object is disposed.</summary>
    /// <remarks>
    /// A cache calls it once for each name it keeps and disposes the result when it evicts the name (idle for
    /// <see cref="CloudMapDiscoveryOptions.IdleTimeout"/>, over <see cref="CloudMapDiscoveryOptions.MaxCachedNames"/>, or
    /// the cache is disposed). Caches that share a source track a name each: the source may drop its state for the
    /// name (answer, revision, backoff) once none tracks it. A name asked for without being tracked keeps no state.
    /// </remarks>
    /// <param name="host">The host name, lower case, without a trailing dot.</param>
    /// <returns>The object whose disposal lets go of the name; disposing it again does nothing.</returns>
    IDisposable Track(string host);
}

/// <summary>Makes the endpoint source of a client whose <see cref="CloudMapDiscoveryOptions.Source"/> is <see cref="CloudMapEndpointSourceKind.Api"/>.</summary>
/// <remarks>Register one as a singleton (the CloudMapDiscovery.Api package does). Clients given the same source instance share one cache.</remarks>
public interface ICloudMapEndpointSourceFactory
{
    /// <summary>The source for the client <paramref name="clientName"/> (empty for the default options).</summary>
    /// <param name="clientName">The HttpClient's name.</param>
    /// <returns>The source; the same instance for clients with the same settings.</returns>
    ICloudMapEndpointSource Create(string clientName);
}

/// <summary>What an <see cref="ICloudMapEndpointSource"/> found: instances, or that there are none.</summary>
public sealed class CloudMapSourceAnswer
{
    private CloudMapSourceAnswer(IReadOnlyList<CloudMapInstance> instances, string? noInstancesReason, string description, string? ownerAccount = null)
    {
        Instances = instances;
        NoInstancesReason = noInstancesReason;
        Description = description;
        OwnerAccount = ownerAccount;
    }

    /// <summary>Gets the account that owns the namespace when another account shared it, else <see langword="null"/>.</summary>
    /// <remarks>
    /// Zone names are mapped per account, so zone-aware routing compares zone IDs for such an answer, or stays off for
    /// the name.
    /// </remarks>
    public string? OwnerAccount { get; }

    /// <summary>Gets the instances found (empty for a negative answer).</summary>
    public IReadOnlyList<CloudMapInstance> Instances { get; }

    /// <summary>Gets what the source said when it found no instances, else <see langword="null"/>.</summary>
    public string? NoInstancesReason { get; }

    /// <summary>Gets where the answer came from, for logs (never credentials).</summary>
    public string Description { get; }

    /// <summary>An answer with instances (an empty list is a negative answer).</summary>
    /// <param name="instances">The instances.</param>
    /// <param name="description">Where the answer came from, for logs.</param>
    /// <returns>The answer.</returns>
    public static CloudMapSourceAnswer Found(IReadOnlyList<CloudMapInstance> instances, string description)
    {
        ArgumentNullException.ThrowIfNull(instances);
        return new(instances, instances.Count == 0 ? $"no instances ({description})" : null, description);
    }

    /// <summary>An answer with instances from a namespace that another account owns and shares.</summary>
    /// <param name="instances">The instances.</param>
    /// <param name="description">Where the answer came from, for logs.</param>
    /// <param name="ownerAccount">The account that owns the namespace.</param>
    /// <returns>The answer.</returns>
    public static CloudMapSourceAnswer FoundShared(IReadOnlyList<CloudMapInstance> instances, string description, string ownerAccount)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentException.ThrowIfNullOrWhiteSpace(ownerAccount);
        return new(instances, instances.Count == 0 ? $"no instances ({description})" : null, description, ownerAccount);
    }

    /// <summary>A negative answer: the service has no instances, or does not exist.</summary>
    /// <param name="reason">What the source said.</param>
    /// <param name="description">Where the answer came from, for logs.</param>
    /// <returns>The answer.</returns>
    public static CloudMapSourceAnswer NoInstances(string reason, string description) => new([], reason, description);
}

/// <summary>One instance of a service: an address and port to call, its instance id and its attributes.</summary>
/// <param name="address">The IP address.</param>
/// <param name="port">The port, or <see langword="null"/> for the request URI's.</param>
/// <param name="instanceId">The Cloud Map instance id.</param>
/// <param name="attributes">The instance's attributes (such as <c>AVAILABILITY_ZONE</c>).</param>
public sealed class CloudMapInstance(IPAddress address, int? port, string instanceId, IReadOnlyDictionary<string, string> attributes)
{
    /// <summary>Gets the IP address.</summary>
    public IPAddress Address { get; } = address;

    /// <summary>Gets the port, or <see langword="null"/> for the request URI's.</summary>
    public int? Port { get; } = port;

    /// <summary>Gets the Cloud Map instance id.</summary>
    public string InstanceId { get; } = instanceId;

    /// <summary>Gets the instance's attributes.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; } = attributes;
}
