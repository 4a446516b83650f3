using CloudMapDiscovery;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Http;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Cloud Map discovery to an HttpClient.</summary>
public static class CloudMapDiscoveryHttpClientBuilderExtensions
{
    private const string GrpcLoadBalancingDisabled = "__GrpcLoadBalancingDisabled";

    /// <summary>
    /// Sends this client's requests to the task addresses behind their host names: resolved through Cloud Map DNS
    /// with their TTLs, balanced round robin per request, retried on another address after a connection failure,
    /// with failing addresses ejected for a while. The original host stays in the Host header and TLS SNI.
    /// It also sets the primary <see cref="SocketsHttpHandler"/>'s <c>ConnectTimeout</c> to
    /// <see cref="CloudMapDiscoveryOptions.ConnectTimeout"/> (2 s by default) when the handler still has .NET's
    /// infinite default, and keeps a gRPC channel (<c>AddGrpcClient</c>) from taking that handler's connects over.
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
                var options = b.Services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(b.Name);
                ConfigurePrimaryHandler(b.PrimaryHandler, options);
                b.AdditionalHandlers.Add(CreateHandler(b.Services, options));
            }));
            return builder;
        }

        builder.ConfigurePrimaryHttpMessageHandler((handler, services) =>
            ConfigurePrimaryHandler(handler, services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(name)));

        builder.AddHttpMessageHandler(services =>
            CreateHandler(services, services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(name)));
        return builder;
    }

    private static void ConfigurePrimaryHandler(HttpMessageHandler handler, CloudMapDiscoveryOptions options)
    {
        if (handler is not SocketsHttpHandler sockets)
        {
            return;
        }

        // Only the framework's infinite default is replaced: a timeout the user chose is theirs.
        if (options.ConnectTimeout is { } timeout && sockets.ConnectTimeout == Timeout.InfiniteTimeSpan)
        {
            sockets.ConnectTimeout = timeout;
        }

        // A gRPC channel (AddGrpcClient) that finds a SocketsHttpHandler below its handlers takes its connects over:
        // it sets ConnectCallback and connects to the host of the channel's address through the system resolver,
        // whatever task address this handler put in the request. This switch (grpc-dotnet#2274) keeps it out.
        sockets.Properties[GrpcLoadBalancingDisabled] = true;
    }

    private static CloudMapDiscoveryHandler CreateHandler(IServiceProvider services, CloudMapDiscoveryOptions options)
    {
        var cache = services.GetRequiredService<EndpointCacheRegistry>().GetCache(options);
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("CloudMapDiscovery.Http") ?? NullLogger.Instance;
        return new CloudMapDiscoveryHandler(cache, options, logger);
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
