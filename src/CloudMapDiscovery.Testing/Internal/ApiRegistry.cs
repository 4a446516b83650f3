namespace CloudMapDiscovery.Testing.Internal;

/// <summary>One registered instance: its id, attributes and health.</summary>
internal sealed record ApiInstance(string Id, IReadOnlyDictionary<string, string> Attributes, CloudMapHealthStatus Health);

/// <summary>The namespaces, services and instances of a <see cref="CloudMapApiTestServer"/>, under one lock.</summary>
/// <remarks>
/// A service's revision moves on every register (a new instance or an update of one) and deregister, never on a change
/// of health, as the model says of <c>InstancesRevision</c>. Names compare case-insensitively, like Cloud Map's.
/// </remarks>
internal sealed class ApiRegistry
{
    private readonly Dictionary<string, Dictionary<string, ApiService>> _namespaces = new(StringComparer.OrdinalIgnoreCase);

    public void CreateService(string ns, string service, bool healthChecked)
    {
        lock (_namespaces)
        {
            Service(ns, service, create: true, healthChecked);
        }
    }

    public bool DeleteService(string ns, string service)
    {
        lock (_namespaces)
        {
            return _namespaces.TryGetValue(ns, out var services) && services.Remove(service);
        }
    }

    public void Register(string ns, string service, ApiInstance instance)
    {
        lock (_namespaces)
        {
            var s = Service(ns, service, create: true, healthChecked: true)!;
            s.Instances[instance.Id] = instance;
            s.Revision++;
        }
    }

    public bool Deregister(string ns, string service, string id)
    {
        lock (_namespaces)
        {
            if (Service(ns, service, create: false, false) is { } s && s.Instances.Remove(id))
            {
                s.Revision++;
                return true;
            }

            return false;
        }
    }

    public bool SetHealth(string ns, string service, string id, CloudMapHealthStatus health)
    {
        lock (_namespaces)
        {
            if (Service(ns, service, create: false, false) is { } s && s.Instances.TryGetValue(id, out var instance))
            {
                s.Instances[id] = instance with { Health = health };
                return true;
            }

            return false;
        }
    }

    /// <summary>The service's state now, or which of namespace and service is missing.</summary>
    public (ApiServiceView? View, string? Missing) Find(string ns, string service)
    {
        lock (_namespaces)
        {
            if (!_namespaces.TryGetValue(ns, out var services))
            {
                return (null, "NamespaceNotFound");
            }

            if (!services.TryGetValue(service, out var s))
            {
                return (null, "ServiceNotFound");
            }

            return (new ApiServiceView(s.Revision, s.HealthChecked, [.. s.Instances.Values]), null);
        }
    }

    private ApiService? Service(string ns, string service, bool create, bool healthChecked)
    {
        if (!_namespaces.TryGetValue(ns, out var services))
        {
            if (!create)
            {
                return null;
            }

            services = new Dictionary<string, ApiService>(StringComparer.OrdinalIgnoreCase);
            _namespaces[ns] = services;
        }

        if (!services.TryGetValue(service, out var s) && create)
        {
            s = new ApiService { HealthChecked = healthChecked, Revision = 1 };
            services[service] = s;
        }

        return s;
    }

    private sealed class ApiService
    {
        public Dictionary<string, ApiInstance> Instances { get; } = new(StringComparer.Ordinal);

        public long Revision { get; set; }

        public bool HealthChecked { get; init; }
    }
}

/// <summary>A copy of one service's state, taken under the lock.</summary>
internal sealed record ApiServiceView(long Revision, bool HealthChecked, IReadOnlyList<ApiInstance> Instances);
