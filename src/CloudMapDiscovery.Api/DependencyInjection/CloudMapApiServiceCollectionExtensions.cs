using Amazon.Runtime;
using CloudMapDiscovery;
using CloudMapDiscovery.Api;
using CloudMapDiscovery.Api.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Cloud Map API source of CloudMapDiscovery.</summary>
public static class CloudMapApiServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Cloud Map API source for clients whose <c>CloudMapDiscovery:Source</c> is <c>Api</c>, with its
    /// options bound from <c>CloudMapDiscovery:Api</c> (and <c>CloudMapDiscovery:Clients:&lt;name&gt;:Api</c>).
    /// </summary>
    /// <remarks>
    /// Credentials come from AWSSDK.Core's default chain (ECS task role, environment, profiles, web identity, EC2 instance
    /// role), or from an <see cref="AWSCredentials"/> registered in the container. Safe to call more than once.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddCloudMapDiscovery();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<CloudMapApiOptions>, ConfigureFromConfiguration>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CloudMapApiOptions>, CloudMapApiOptionsValidator>());
        services.TryAddSingleton<ICloudMapEndpointSourceFactory>(sp => new ApiSourceFactory(
            sp.GetRequiredService<IOptionsMonitor<CloudMapApiOptions>>(), sp.GetService<AWSCredentials>(), sp.GetService<TimeProvider>(), sp.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>Registers the API source and changes every client's API options (applied after configuration binding).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Changes to the options.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddCloudMapApi(this IServiceCollection services, Action<CloudMapApiOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddCloudMapApi();
        services.ConfigureAll(configure);
        return services;
    }

    /// <summary>Makes this client discover through the Cloud Map API (<c>Source = Api</c>) instead of DNS, with optional changes to its API options.</summary>
    /// <remarks>Chain it after <c>AddCloudMapDiscovery()</c>: <c>services.AddHttpClient("x").AddCloudMapDiscovery().UseCloudMapApi()</c>.</remarks>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Changes to this client's API options, or <see langword="null"/>.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder UseCloudMapApi(this IHttpClientBuilder builder, Action<CloudMapApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddCloudMapApi();
        if (builder.Name is { } name)
        {
            builder.Services.Configure<CloudMapDiscoveryOptions>(name, o => o.Source = CloudMapEndpointSourceKind.Api);
            if (configure is not null)
            {
                builder.Services.Configure(name, configure);
            }
        }
        else
        {
            builder.Services.ConfigureAll<CloudMapDiscoveryOptions>(o => o.Source = CloudMapEndpointSourceKind.Api);
            if (configure is not null)
            {
                builder.Services.ConfigureAll(configure);
            }
        }

        return builder;
    }

    /// <summary>Binds <c>CloudMapDiscovery:Api</c>, then <c>CloudMapDiscovery:Clients:&lt;name&gt;:Api</c> for a named client.</summary>
    private sealed class ConfigureFromConfiguration(IServiceProvider services) : IConfigureNamedOptions<CloudMapApiOptions>
    {
        private readonly IConfiguration? _configuration = services.GetService<IConfiguration>();

        public void Configure(CloudMapApiOptions options) => Configure(Options.Options.DefaultName, options);

        public void Configure(string? name, CloudMapApiOptions options)
        {
            if (_configuration is null)
            {
                return;
            }

            _configuration.GetSection(CloudMapApiOptions.SectionName).Bind(options);
            if (!string.IsNullOrEmpty(name))
            {
                _configuration.GetSection(CloudMapDiscoveryOptions.SectionName).GetSection("Clients").GetSection(name).GetSection("Api").Bind(options);
            }
        }
    }
}
