using CloudMapDiscovery;
using CloudMapDiscovery.ServiceDiscovery;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Cloud Map discovery as an endpoint provider of Microsoft.Extensions.ServiceDiscovery.</summary>
public static class CloudMapServiceDiscoveryServiceCollectionExtensions
{
    /// <summary>
    /// Resolves service names through Cloud Map DNS for Microsoft.Extensions.ServiceDiscovery (<c>AddServiceDiscovery()</c>,
    /// its HttpClient handler, YARP's destination resolver): answers are shared with CloudMapDiscovery's cache, with its
    /// TTL floor and cap, one query per name at a time, the last good answer while DNS fails, "no instances" believed
    /// briefly, merged MULTIVALUE answers, and a change notification only when the set of addresses changes.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Options come from the unnamed <see cref="CloudMapDiscoveryOptions"/>: the <c>CloudMapDiscovery</c> configuration
    /// section, validated at startup like the HTTP handler's. <see cref="CloudMapDiscoveryOptions.HostSuffixes"/> says
    /// which names it answers for; IP literals, <c>localhost</c> and other names go to the providers after it (the
    /// pass-through provider last). Endpoints that an earlier provider gave (call this after <c>AddServiceDiscovery()</c>,
    /// so that the configuration provider comes first) win over DNS.
    /// </para>
    /// <para>
    /// An A/AAAA address gets the port written in the service name (<c>http://name.internal:3000</c>), or none (the
    /// scheme's default); an SRV address gets the port DNS gives. Each endpoint carries the name's authority as its host
    /// name, which the HTTP handler sends as the Host header (and so as TLS SNI). When DNS says no instances, or fails with
    /// no earlier answer, resolution throws <see cref="ServiceDiscoveryException"/>. Picking and retries are
    /// Microsoft.Extensions.ServiceDiscovery's (round robin per request, no ejection, no retry on another address).
    /// </para>
    /// <para>
    /// While a name is watched, each of its addresses is checked in the background every 5 s (a TCP connect, or a GET of
    /// <see cref="CloudMapDiscoveryOptions.HealthCheckPath"/> expecting 2xx, within
    /// <see cref="CloudMapDiscoveryOptions.ConnectTimeout"/>); one that fails is left out of the endpoints given until a
    /// check passes, and all are given when every one fails. <see cref="CloudMapDiscoveryOptions.ProbeEjectedEndpoints"/>
    /// <see langword="false"/> turns the checks off.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapServiceEndpointProvider(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddServiceDiscoveryCore();
        services.AddCloudMapDiscovery();
        services.AddOptions<CloudMapDiscoveryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceEndpointProviderFactory, CloudMapServiceEndpointProviderFactory>());
        return services;
    }

    /// <summary>Registers the provider (see <see cref="AddCloudMapServiceEndpointProvider(IServiceCollection)"/>) and changes its options.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the unnamed options, applied after configuration binding (HttpClients with their own names keep theirs).</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapServiceEndpointProvider(this IServiceCollection services, Action<CloudMapDiscoveryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        // The provider first: its registration binds configuration, and options actions run in the order they were added.
        services.AddCloudMapServiceEndpointProvider();
        return services.Configure(Microsoft.Extensions.Options.Options.DefaultName, configure);
    }
}
