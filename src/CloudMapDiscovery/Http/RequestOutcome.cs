using CloudMapDiscovery.Balancing;

namespace CloudMapDiscovery.Http;

/// <summary>What an answered attempt tells the balancer, and how the request is handed back to its caller.</summary>
internal static class RequestOutcome
{
    /// <summary>
    /// A response is the answer whatever its status; a gateway error may still count against the endpoint, when its
    /// balancer says so (every client sharing the balancer judges its endpoints alike).
    /// </summary>
    public static void Answered(ServiceBalancer balancer, BalancedEndpoint endpoint, HttpResponseMessage response)
    {
        if (balancer.EjectsOnGatewayErrors && (int)response.StatusCode is 502 or 503 or 504)
        {
            balancer.ReportFailure(endpoint, connectFailure: false);
        }
        else
        {
            balancer.ReportSuccess(endpoint);
        }
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
