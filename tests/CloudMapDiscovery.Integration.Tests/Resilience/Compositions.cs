using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace CloudMapDiscovery.Integration.Tests.Resilience;

/// <summary>The two ways to register the standard resilience handler with discovery, and fast retry options.</summary>
internal static class Compositions
{
    /// <summary>Recommended: the standard handler first (outer), discovery second (inner).</summary>
    public static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> ResilienceOutside(Action<HttpStandardResilienceOptions> options)
        => (client, addDiscovery) =>
        {
            client.AddStandardResilienceHandler(options);
            addDiscovery(client);
        };

    /// <summary>The order <c>.AddCloudMapDiscovery().AddStandardResilienceHandler()</c> chains to (discovery registered first; it moves itself below).</summary>
    public static Action<IHttpClientBuilder, Action<IHttpClientBuilder>> ResilienceChainedAfter(Action<HttpStandardResilienceOptions> options)
        => (client, addDiscovery) =>
        {
            addDiscovery(client);
            client.AddStandardResilienceHandler(options);
        };

    /// <summary>Retries at once (no backoff), reporting each to <paramref name="events"/>.</summary>
    public static void Retries(HttpStandardResilienceOptions o, int retries, ResilienceEvents? events = null)
    {
        o.Retry.MaxRetryAttempts = retries;
        o.Retry.Delay = TimeSpan.Zero;
        if (events is not null)
        {
            o.Retry.OnRetry = _ =>
            {
                events.Retry();
                return default;
            };
        }
    }
}
