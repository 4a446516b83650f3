using CloudMapDiscovery;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Http;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Cloud Map discovery to an HttpClient.</summary>
public static class CloudMapDiscoveryHttpClientBuilderExtensions
{
    private const string GrpcLoadBalancingDisabled = "__GrpcLoadBalancingDisabled";
    private const string ResilienceHandler = "Microsoft.Extensions.Http.Resilience.ResilienceHandler";

    /// <summary>
    /// Sends this client's requests to the task addresses behind their host names: resolved through Cloud Map DNS with
    /// their TTLs, balanced round robin per request, retried on another address after a connection failure, with
    /// failing addresses ejected for a while.
    /// </summary>
    /// <remarks>
    /// The original host stays in the Host header and TLS SNI.
    /// The handler takes its place in the order of registration, like any other, except that it always goes below
    /// the resilience handlers of Microsoft.Extensions.Http.Resilience (<c>AddStandardResilienceHandler()</c>,
    /// <c>AddStandardHedgingHandler()</c>, <c>AddResilienceHandler(...)</c>), whichever was registered first: their
    /// retries, hedges, timeouts and circuit breaker must see each attempt go to a task address of its own, and a
    /// breaker below discovery would open for every task at once. The natural chain
    /// <c>.AddCloudMapDiscovery().AddStandardResilienceHandler()</c> therefore does the right thing. Handlers of your
    /// own registered after this one stay below it (they see each attempt, rewritten to its task address), also when
    /// a resilience handler is chained after them: that one moves above discovery, they do not.
    /// It also sets the primary <see cref="SocketsHttpHandler"/>'s <c>ConnectTimeout</c> to
    /// <see cref="CloudMapDiscoveryOptions.ConnectTimeout"/> (2 s by default) when the handler still has .NET's infinite
    /// default, and keeps a gRPC channel (<c>AddGrpcClient</c>) from taking that handler's connects over. Adding
    /// discovery twice to one client (say, to every client and to a named one) adds one handler.
    /// </remarks>
    /// <param name="builder">The client builder.</param>
    /// <returns>The same builder.</returns>
    public static IHttpClientBuilder AddCloudMapDiscovery(this IHttpClientBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddCloudMapDiscovery(); // its startup check validates this client's options too

        // The handler is added in the order of registration; a post-configured action, which runs after every other
        // action of the client, then moves it below any resilience handler and configures the primary handler as
        // finally chosen. With a null name (ConfigureHttpClientDefaults) both apply to every client, each with its own
        // named options.
        var name = builder.Name;
        if (name is null)
        {
            builder.Services.ConfigureAll<HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(b => AddHandler(b, b.Name)));
            builder.Services.PostConfigureAll<HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(b => Finish(b, b.Name)));
        }
        else
        {
            builder.Services.Configure<HttpClientFactoryOptions>(name, o => o.HttpMessageHandlerBuilderActions.Add(b => AddHandler(b, name)));
            builder.Services.PostConfigure<HttpClientFactoryOptions>(name, o => o.HttpMessageHandlerBuilderActions.Add(b => Finish(b, name)));
        }

        return builder;
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

    private static void AddHandler(HttpMessageHandlerBuilder builder, string? name)
    {
        if (builder.AdditionalHandlers.Any(h => h is CloudMapDiscoveryHandler))
        {
            return;
        }

        var settings = SettingsOf(builder, name);
        var registry = builder.Services.GetRequiredService<BalancerRegistry>();
        builder.AdditionalHandlers.Add(new CloudMapDiscoveryHandler(registry.GetCache(settings.Discovery, settings.Balancing), new HostMatcher(settings.Targeting), settings.Http, registry.Context, name));
    }

    private static void Finish(HttpMessageHandlerBuilder builder, string? name)
    {
        ConfigurePrimaryHandler(builder.PrimaryHandler, SettingsOf(builder, name));

        // Handlers run outermost first. A resilience handler below discovery would retry on the task already picked
        // and open its breaker for every task: each one registered after discovery moves up to just above it, in its
        // order. Every other handler keeps its place, so those registered after discovery stay below it.
        var handlers = builder.AdditionalHandlers;
        var discovery = -1;
        for (var i = 0; i < handlers.Count; i++)
        {
            if (handlers[i] is CloudMapDiscoveryHandler)
            {
                discovery = i;
            }
            else if (discovery >= 0 && handlers[i].GetType().FullName == ResilienceHandler)
            {
                var resilience = handlers[i];
                handlers.RemoveAt(i);
                handlers.Insert(discovery, resilience);
                discovery++;
            }
        }
    }

    private static CloudMapSettings SettingsOf(HttpMessageHandlerBuilder builder, string? name)
        => builder.Services.GetRequiredService<ClientSettingsStore>().For(name);

    private static void ConfigurePrimaryHandler(HttpMessageHandler handler, CloudMapSettings settings)
    {
        if (handler is not SocketsHttpHandler sockets)
        {
            return;
        }

        // Only the framework's infinite default is replaced: a timeout the user chose is theirs.
        if (settings.Balancing.Probe.ConnectTimeout is { } timeout && sockets.ConnectTimeout == Timeout.InfiniteTimeSpan)
        {
            sockets.ConnectTimeout = timeout;
        }

        // A gRPC channel (AddGrpcClient) that finds a SocketsHttpHandler below its handlers takes its connects over:
        // it sets ConnectCallback and connects to the host of the channel's address through the system resolver,
        // whatever task address this handler put in the request. This switch (grpc-dotnet#2274) keeps it out.
        sockets.Properties[GrpcLoadBalancingDisabled] = true;
    }
}
