using System.Net;
using CloudMapDiscovery.Testing.Internal;

namespace CloudMapDiscovery.Testing;

/// <summary>An in-process AWS Cloud Map data plane (<c>DiscoverInstances</c>, <c>DiscoverInstancesRevision</c>) on loopback, for tests.</summary>
/// <remarks>
/// Speaks AWS JSON 1.1 as the service model (servicediscovery 2017-03-14) defines it, so an AWS SDK pointed at
/// <see cref="ServiceUrl"/> reads its replies: the request's <c>HealthStatus</c> (default <c>HEALTHY</c>, and
/// <c>HEALTHY_OR_ELSE_ALL</c> failing open), <c>QueryParameters</c> (every pair must match),
/// <c>OptionalParameters</c> (used only if some instance matches them too), <c>MaxResults</c> (1 to 1,000, default
/// 100), <c>OwnerAccount</c>; instances in random order; <c>InstancesRevision</c>, which moves on register and
/// deregister but not on a change of health; the model's errors (<c>NamespaceNotFound</c>, <c>ServiceNotFound</c>,
/// <c>InvalidInput</c>, <c>RequestLimitExceeded</c>) as HTTP 400 with <c>__type</c> and <c>Message</c>. Every request
/// must carry a well-formed SigV4 Authorization header for the service <c>servicediscovery</c> (HTTP 403 otherwise).
/// Calls are counted per operation; faults are injected with <see cref="InjectFault"/>.
/// </remarks>
public sealed class CloudMapApiTestServer : IAsyncDisposable
{
    private readonly ApiRegistry _registry = new();
    private readonly ApiFaults _faults = new();
    private readonly ApiCounters _counters = new();
    private readonly HttpExchange _http;

    private CloudMapApiTestServer(CloudMapApiTestServerOptions options)
    {
        var handler = new ApiRequestHandler(_registry, options, _faults, _counters);
        _http = new HttpExchange(options.Address, options.Port, handler.HandleAsync);
        ServiceUrl = new Uri($"http://{(_http.EndPoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{_http.EndPoint.Address}]" : _http.EndPoint.Address.ToString())}:{_http.EndPoint.Port}/");
    }

    /// <summary>Gets the endpoint to point a client at (its <c>ServiceUrl</c>), such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri ServiceUrl { get; }

    /// <summary>Gets the address and port the server listens on.</summary>
    public IPEndPoint EndPoint => _http.EndPoint;

    /// <summary>Gets how many requests were refused for a missing or malformed signature or an unknown access key.</summary>
    public int RefusedCount => _counters.Refused();

    /// <summary>Starts a server on loopback.</summary>
    /// <param name="options">The settings; defaults when <see langword="null"/>.</param>
    /// <returns>The running server.</returns>
    public static CloudMapApiTestServer Start(CloudMapApiTestServerOptions? options = null) => new(options ?? new CloudMapApiTestServerOptions());

    /// <summary>Creates a service with no instances (a call for it then answers with none, not <c>ServiceNotFound</c>).</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <param name="healthChecked">Whether the service has a health check; without one, every instance is <c>UNKNOWN</c> and the health filter is ignored.</param>
    public void CreateService(string namespaceName, string serviceName, bool healthChecked = true) => _registry.CreateService(namespaceName, serviceName, healthChecked);

    /// <summary>Deletes a service and its instances; calls for it then get <c>ServiceNotFound</c>.</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <returns>Whether the service existed.</returns>
    public bool DeleteService(string namespaceName, string serviceName) => _registry.DeleteService(namespaceName, serviceName);

    /// <summary>Registers (or updates) an instance, creating its namespace and service if needed; the service's revision moves.</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="attributes">Its attributes, such as <c>AWS_INSTANCE_IPV4</c> and <c>AWS_INSTANCE_PORT</c>.</param>
    /// <param name="health">Its health status.</param>
    public void RegisterInstance(string namespaceName, string serviceName, string instanceId, IReadOnlyDictionary<string, string> attributes, CloudMapHealthStatus health = CloudMapHealthStatus.Healthy)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        _registry.Register(namespaceName, serviceName, new ApiInstance(instanceId, new Dictionary<string, string>(attributes, StringComparer.Ordinal), health));
    }

    /// <summary>Deregisters an instance; the service's revision moves.</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <param name="instanceId">The instance id.</param>
    /// <returns>Whether the instance was registered.</returns>
    public bool DeregisterInstance(string namespaceName, string serviceName, string instanceId) => _registry.Deregister(namespaceName, serviceName, instanceId);

    /// <summary>Changes an instance's health status; the revision does not move (Cloud Map's does not either).</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <param name="instanceId">The instance id.</param>
    /// <param name="health">The new status.</param>
    /// <returns>Whether the instance was registered.</returns>
    public bool SetHealthStatus(string namespaceName, string serviceName, string instanceId, CloudMapHealthStatus health) => _registry.SetHealth(namespaceName, serviceName, instanceId, health);

    /// <summary>Gets a service's current revision, or <see langword="null"/> when it does not exist.</summary>
    /// <param name="namespaceName">The namespace's HTTP name.</param>
    /// <param name="serviceName">The service's name.</param>
    /// <returns>The revision.</returns>
    public long? GetRevision(string namespaceName, string serviceName) => _registry.Find(namespaceName, serviceName).View?.Revision;

    /// <summary>Makes calls misbehave, in the order faults were added, until their count runs out or <see cref="ClearFaults"/>.</summary>
    /// <param name="fault">The fault.</param>
    public void InjectFault(CloudMapApiFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _faults.Add(fault);
    }

    /// <summary>Removes every fault.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>Gets how many signed calls of an operation arrived (faulted ones included).</summary>
    /// <param name="operation"><c>DiscoverInstances</c> or <c>DiscoverInstancesRevision</c>.</param>
    /// <returns>The count.</returns>
    public int GetCallCount(string operation) => _counters.Calls(operation);

    /// <summary>Sets every count back to zero.</summary>
    public void ResetCounts() => _counters.Reset();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _http.DisposeAsync();
}
