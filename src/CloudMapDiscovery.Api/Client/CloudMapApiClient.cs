using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CloudMapDiscovery.Api.Signing;

namespace CloudMapDiscovery.Api.Client;

/// <summary>What to discover: the service, its namespace, and the model's filters.</summary>
internal sealed record DiscoverQuery(
    string NamespaceName,
    string ServiceName,
    string HealthStatus,
    IReadOnlyDictionary<string, string>? QueryParameters,
    IReadOnlyDictionary<string, string>? OptionalParameters,
    string? OwnerAccount);

/// <summary>The Cloud Map data plane's two calls, signed with SigV4, over AWS JSON 1.1.</summary>
/// <remarks>
/// <c>POST /</c> to <c>data-servicediscovery.&lt;region&gt;.amazonaws.com</c> (the operations' host prefix), or to the
/// configured service URL as is. A failure becomes a <see cref="CloudMapApiException"/> naming the operation and AWS's
/// error code; no message, log or exception carries the keys, the token or the signature.
/// </remarks>
internal sealed class CloudMapApiClient
{
    public const string DiscoverInstances = "DiscoverInstances";
    public const string DiscoverInstancesRevision = "DiscoverInstancesRevision";
    public const int MaxResults = 1000;
    private const string TargetPrefix = "Route53AutoNaming_v20170314.";
    private const string SigningService = "servicediscovery";
    private static readonly MediaTypeHeaderValue JsonType = new("application/x-amz-json-1.1");

    private readonly HttpClient _http;
    private readonly AwsKeySource _keys;
    private readonly TimeProvider _clock;

    public CloudMapApiClient(HttpClient http, Uri endpoint, string region, AwsKeySource keys, TimeProvider clock)
    {
        _http = http;
        Endpoint = endpoint;
        Region = region;
        _keys = keys;
        _clock = clock;
    }

    public Uri Endpoint { get; }

    public string Region { get; }

    /// <summary>The public endpoint of a Region.</summary>
    public static Uri DefaultEndpoint(string region) => new($"https://data-servicediscovery.{region}.amazonaws.com/");

    public async Task<DiscoverInstancesReply> DiscoverInstancesAsync(DiscoverQuery query, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(Body(query, full: true), ApiJsonContext.Default.DiscoverRequestBody);
        var bytes = await CallAsync(DiscoverInstances, body, cancellationToken).ConfigureAwait(false);
        var reply = Read(DiscoverInstances, bytes, static b => JsonSerializer.Deserialize(b, ApiJsonContext.Default.DiscoverInstancesReply));
        if (reply.Instances is null)
        {
            throw Malformed(DiscoverInstances, "the reply has no Instances", null);
        }

        return reply;
    }

    public async Task<long> DiscoverInstancesRevisionAsync(DiscoverQuery query, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(Body(query, full: false), ApiJsonContext.Default.DiscoverRequestBody);
        var bytes = await CallAsync(DiscoverInstancesRevision, body, cancellationToken).ConfigureAwait(false);
        var reply = Read(DiscoverInstancesRevision, bytes, static b => JsonSerializer.Deserialize(b, ApiJsonContext.Default.DiscoverInstancesRevisionReply));
        return reply.InstancesRevision ?? throw Malformed(DiscoverInstancesRevision, "the reply has no InstancesRevision", null);
    }

    // DiscoverInstancesRevision takes only the names (and the owner): the model has no filters on it.
    private static DiscoverRequestBody Body(DiscoverQuery q, bool full) => new()
    {
        NamespaceName = q.NamespaceName,
        ServiceName = q.ServiceName,
        OwnerAccount = q.OwnerAccount,
        MaxResults = full ? MaxResults : null,
        HealthStatus = full ? q.HealthStatus : null,
        QueryParameters = full && q.QueryParameters is { Count: > 0 } qp ? qp : null,
        OptionalParameters = full && q.OptionalParameters is { Count: > 0 } op ? op : null,
    };

    private async Task<byte[]> CallAsync(string operation, byte[] body, CancellationToken cancellationToken)
    {
        var keys = await _keys.GetAsync(operation).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = JsonType;
        request.Headers.TryAddWithoutValidation("X-Amz-Target", TargetPrefix + operation);
        SigV4Signer.Sign(request, body, keys, Region, SigningService, _clock.GetUtcNow());

        HttpResponseMessage response;
        byte[] bytes;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var what = ex is TaskCanceledException ? $"no reply within {_http.Timeout.TotalSeconds:0.#} s" : ex.Message;
            throw new CloudMapApiException(operation, "NetworkError", null, $"Cloud Map {operation} at {Endpoint} failed: {what}.", ex);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return bytes;
            }

            throw Failure(operation, response, bytes);
        }
    }

    private CloudMapApiException Failure(string operation, HttpResponseMessage response, byte[] bytes)
    {
        ErrorReply? error = null;
        try
        {
            error = bytes.Length > 0 ? JsonSerializer.Deserialize(bytes, ApiJsonContext.Default.ErrorReply) : null;
        }
        catch (JsonException)
        {
            // An error body that is not JSON: the status (and the header, if any) still say what happened.
        }

        var header = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.FirstOrDefault() : null;
        var code = Code(error?.Type) ?? Code(header?.Split(':')[0]) ?? (response.StatusCode == HttpStatusCode.TooManyRequests ? "TooManyRequestsException" : "Unknown");
        var status = (int)response.StatusCode;
        var detail = error?.Message is { Length: > 0 } m ? m.Length > 300 ? m[..300] + "..." : m : code == "Unknown" ? "the error reply names no error type" : "no message";
        var message = string.Create(CultureInfo.InvariantCulture, $"Cloud Map {operation} at {Endpoint} failed with {code} (HTTP {status}): {detail.TrimEnd('.')}.");
        return new CloudMapApiException(operation, code, response.StatusCode, message);
    }

    // "com.amazonaws.servicediscovery#ServiceNotFound" and "ServiceNotFound" name the same error.
    private static string? Code(string? type)
        => string.IsNullOrWhiteSpace(type) ? null : type[(type.LastIndexOf('#') + 1)..].Trim();

    private T Read<T>(string operation, byte[] bytes, Func<byte[], T?> parse)
        where T : class
    {
        try
        {
            return parse(bytes) ?? throw Malformed(operation, "the reply is empty", null);
        }
        catch (JsonException ex)
        {
            throw Malformed(operation, $"the reply is not valid JSON ({ex.Message})", ex);
        }
    }

    private CloudMapApiException Malformed(string operation, string what, Exception? inner)
        => new(operation, "MalformedReply", HttpStatusCode.OK, $"Cloud Map {operation} at {Endpoint} gave a malformed reply (MalformedReply): {what}.", inner);
}
