namespace CloudMapDiscovery;

/// <summary>Per-request switches, set with <c>request.Options.Set(key, value)</c>.</summary>
public static class CloudMapRequestOptions
{
    /// <summary>
    /// Allows a request with a non-idempotent method (POST, PATCH) to be retried on another address after a failure
    /// that happened once the request may have been sent.
    /// </summary>
    /// <remarks>
    /// Only set it when the server tolerates a duplicate. A body that cannot be replayed (a
    /// <see cref="System.Net.Http.StreamContent"/>, for one) is never re-sent regardless. Connection failures are
    /// always retried: nothing was sent.
    /// </remarks>
    public static readonly HttpRequestOptionsKey<bool> AllowRetryAfterSend = new("CloudMapDiscovery.AllowRetryAfterSend");
}
