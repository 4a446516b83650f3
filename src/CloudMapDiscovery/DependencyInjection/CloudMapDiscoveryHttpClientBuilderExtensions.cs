using CloudMapDiscovery;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Http;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Cloud Map discovery to an HttpClient.</summary>
public static class CloudMapDiscoveryHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends this client's requests to the task addresses behind their host names: resolved through Cloud Map DNS
    /// with their TTLs, balanced round robin per request, retried on another address after a connection failure,
    /// with failing addresses ejected for a while. The original host stays in the Host header and TLS SNI.
    /// It also sets the primary <see cref="SocketsHttpHandler"/>'s <c>ConnectTimeout</c> to
    /// <see cref="CloudMapDiscoveryOptions.ConnectTimeout"/> (2 s by default) when the handler still has .NET's
    /// infinite default.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddCloudMapDiscovery(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddCloudMapDiscovery();
        builder.Services.AddOptions<CloudMapDiscoveryOptions>(builder.Name).ValidateOnStart();
        var name = builder.Name;
        if (name is null)
        {
            // ConfigureHttpClientDefaults: the client's name, and so its options, are only known when its handler
            // is built. Same steps as below, in the same order (through builder.Services, which keeps defaults first).
            builder.Services.Configure<HttpClientFactoryOptions>(name, o => o.HttpMessageHandlerBuilderActions.Add(b =>
            {
                var settings = CloudMapSettings.From(b.Services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(b.Name));
                ApplyConnectTimeout(b.PrimaryHandler, settings);
                b.AdditionalHandlers.Add(CreateHandler(b.Services, settings, b.Name));
            }));
            return builder;
        }

        builder.ConfigurePrimaryHttpMessageHandler((handler, services) => ApplyConnectTimeout(handler, SettingsOf(services, name)));
        builder.AddHttpMessageHandler(services => CreateHandler(services, SettingsOf(services, name), name));
        return builder;
    }

    private static CloudMapSettings SettingsOf(IServiceProvider services, string name)
        => CloudMapSettings.From(services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(name));

    private static void ApplyConnectTimeout(HttpMessageHandler handler, CloudMapSettings settings)
    {
        // Only the framework's infinite default is replaced: a timeout the user chose is theirs.
        if (handler is SocketsHttpHandler sockets && settings.Balancing.Probe.ConnectTimeout is { } timeout && sockets.ConnectTimeout == Timeout.InfiniteTimeSpan)
        {
            sockets.ConnectTimeout = timeout;
        }
    }

    private static CloudMapDiscoveryHandler CreateHandler(IServiceProvider services, CloudMapSettings settings, string? clientName)
    {
        var registry = services.GetRequiredService<BalancerRegistry>();
        return new CloudMapDiscoveryHandler(registry.GetCache(settings.Discovery, settings.Balancing), settings.Http, registry.Context, clientName);
    }

    /// <summary>Adds discovery to this client with changes to its options (applied after configuration binding).</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Changes to this client's options.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddCloudMapDiscovery(this IHttpClientBuilder builder, Action<CloudMapDiscoveryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddCloudMapDiscovery();
        builder.Services.Configure(builder.Name, configure);
        return builder.AddCloudMapDiscovery();
    }
}
