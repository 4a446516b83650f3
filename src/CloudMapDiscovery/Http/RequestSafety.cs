namespace CloudMapDiscovery.Http;

/// <summary>Whether a request may be sent again after it may already have reached a server.</summary>
internal static class RequestSafety
{
    /// <summary>RFC 9110 section 9.2.2: methods whose repetition has the same effect as one request.</summary>
    public static bool IsIdempotent(HttpMethod method)
        => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace
            || method == HttpMethod.Put || method == HttpMethod.Delete;

    /// <summary>Whether the content can be serialised a second time with the same bytes.</summary>
    /// <remarks>
    /// Buffered contents can; a stream may have been read already, and unknown content types are assumed not to be
    /// replayable.
    /// </remarks>
    public static bool IsReplayable(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent => true,          // also StringContent and FormUrlEncodedContent
        ReadOnlyMemoryContent => true,
        MultipartContent multipart => multipart.All(IsReplayable),
        System.Net.Http.Json.JsonContent => true, // serialises its value again on each send
        _ => false,
    };

    public static bool MayRetryAfterSend(HttpRequestMessage request)
    {
        var allowed = IsIdempotent(request.Method)
            || (request.Options.TryGetValue(CloudMapRequestOptions.AllowRetryAfterSend, out var optIn) && optIn);
        return allowed && IsReplayable(request.Content);
    }
}
