using System.Diagnostics.Metrics;
using CloudMapDiscovery;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Cloud Map discovery's shared services.</summary>
public static class CloudMapDiscoveryServiceCollectionExtensions
{
    /// <summary>
    /// Registers the shared endpoint caches, options bound from the <c>CloudMapDiscovery</c> configuration section
    /// (when an <see cref="IConfiguration"/> is registered) with startup validation (of the unnamed options and of
    /// every name configured: a <c>Clients</c> section, <c>Configure</c> or <c>PostConfigure</c> by name, a named
    /// client), <see cref="ICloudMapDiscoveryDiagnostics"/>, and a <see cref="CloudMapDiscovery.Dns.DnsResolver"/>
    /// configured from the same options, for code that resolves names itself.
    /// </summary>
    /// <remarks>
    /// Called for you by <c>AddCloudMapDiscovery()</c> on a client builder; safe to call more than once.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapDiscovery(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<CloudMapDiscoveryOptions>, ConfigureFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CloudMapDiscoveryOptions>, CloudMapDiscoveryOptionsValidator>());

        // The unnamed options and every name configured (a Clients section, Configure/PostConfigure by name, a named
        // client): AddCloudMapDiscoveryToAllHttpClients() cannot register ValidateOnStart() for names it never sees.
        if (!services.Any(d => d.ServiceType == typeof(IValidateOptions<NamedOptionsStartupCheck>)))
        {
            services.AddSingleton<IValidateOptions<NamedOptionsStartupCheck>, NamedOptionsStartupCheck.Validator>();
            services.AddOptions<NamedOptionsStartupCheck>().ValidateOnStart();
        }
        services.TryAddSingleton(sp => new ClientSettingsStore(sp.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>(), sp.GetService<ICloudMapEndpointSourceFactory>()));
        services.TryAddSingleton(sp => new CloudMapContext(sp.GetService<TimeProvider>(), sp.GetService<ILoggerFactory>(), sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new DiscoveryRegistry(sp.GetRequiredService<CloudMapContext>()));
        services.TryAddSingleton(sp => new BalancerRegistry(sp.GetRequiredService<DiscoveryRegistry>(), sp.GetService<CallerZone>()));
        services.TryAddSingleton<ICloudMapDiscoveryDiagnostics>(sp => sp.GetRequiredService<BalancerRegistry>().Diagnostics);

        // For code that wants the resolver itself (raw sockets, a gRPC resolver of its own): configured from the same
        // options (the unnamed ones: NameServers, DnsTimeout, DnsAttempts), and the one the default clients use.
        services.TryAddSingleton(sp => sp.GetRequiredService<DiscoveryRegistry>().GetDnsResolver(
            CloudMapSettings.From(sp.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().CurrentValue).Discovery.Dns));
        return services;
    }

    /// <summary>Registers the shared services and configures the default options (every client's starting point).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the options, applied after configuration binding.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapDiscovery(this IServiceCollection services, Action<CloudMapDiscoveryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddCloudMapDiscovery();
        services.ConfigureAll(configure);
        return services;
    }

    /// <summary>
    /// Turns discovery on for every HttpClient made by IHttpClientFactory (through <c>ConfigureHttpClientDefaults</c>).
    /// </summary>
    /// <remarks>
    /// Hosts that are IP literals or <c>localhost</c>, or outside <see cref="CloudMapDiscoveryOptions.HostSuffixes"/>
    /// when set, pass through untouched.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Optional changes to every client's options.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapDiscoveryToAllHttpClients(this IServiceCollection services, Action<CloudMapDiscoveryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddCloudMapDiscovery();
        if (configure is not null)
        {
            services.ConfigureAll(configure);
        }

        services.ConfigureHttpClientDefaults(b => b.AddCloudMapDiscovery());
        return services;
    }

    /// <summary>
    /// Binds the section <c>CloudMapDiscovery</c>, then <c>CloudMapDiscovery:Clients:&lt;name&gt;</c> for a named
    /// client.
    /// </summary>
    /// <remarks>A list given in the client section replaces the shared one instead of extending it.</remarks>
    private sealed class ConfigureFromConfiguration : IConfigureNamedOptions<CloudMapDiscoveryOptions>
    {
        private readonly IConfiguration? _configuration;

        public ConfigureFromConfiguration(IServiceProvider services)
        {
            _configuration = services.GetService<IConfiguration>();
        }

        public void Configure(CloudMapDiscoveryOptions options) => Configure(Microsoft.Extensions.Options.Options.DefaultName, options);

        public void Configure(string? name, CloudMapDiscoveryOptions options)
        {
            if (_configuration is null)
            {
                return;
            }

            var section = _configuration.GetSection(CloudMapDiscoveryOptions.SectionName);
            section.Bind(options);
            if (!string.IsNullOrEmpty(name))
            {
                var client = section.GetSection("Clients").GetSection(name);
                if (client.GetSection(nameof(options.NameServers)).Exists())
                {
                    options.NameServers.Clear();
                }

                if (client.GetSection(nameof(options.HostSuffixes)).Exists())
                {
                    options.HostSuffixes.Clear();
                }

                client.Bind(options);
            }
        }
    }
}
