using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Http;

/// <summary>What an answered attempt tells the balancer, and how the request is handed back to its caller.</summary>
internal static class RequestOutcome
{
    /// <summary>
    /// A response is the caller's answer whatever its status; for the endpoint's health a 5xx still counts against it
    /// (every client sharing the balancer judges its endpoints alike).
    /// </summary>
    public static void Answered(ServiceBalancer balancer, BalancedEndpoint endpoint, long started, HttpResponseMessage response)
    {
        balancer.Finish(endpoint, started);
        balancer.ReportResponse(endpoint, (int)response.StatusCode);
    }

    /// <summary>Puts the request back as the caller made it, once it is answered or has failed for good.</summary>
    public static void Restore(HttpRequestMessage request, Uri original, Uri sent, bool addedHost)
    {
        // Callers and logs should see the URI they asked for, unless a redirect moved the request on.
        if (ReferenceEquals(request.RequestUri, sent))
        {
            request.RequestUri = original;
        }

        // An outer handler (hedging, say) may send this request again elsewhere; it must not carry our Host.
        if (addedHost)
        {
            request.Headers.Host = null;
        }
    }
}
