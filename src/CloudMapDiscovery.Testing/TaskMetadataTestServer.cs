using System.Net;
using System.Text;
using System.Text.Json;
using CloudMapDiscovery.Testing.Internal;

namespace CloudMapDiscovery.Testing;

/// <summary>An in-process ECS task metadata endpoint (v4) and EC2 instance metadata service (IMDSv2) on loopback, for tests of zone-aware routing.</summary>
/// <remarks>
/// Point the library at it by setting the environment variable <c>ECS_CONTAINER_METADATA_URI_V4</c> to
/// <see cref="MetadataUri"/> before the service provider is built: <c>GET {MetadataUri}/task</c> answers a task
/// document with <c>AvailabilityZone</c>. <see cref="InstanceMetadataUri"/> answers IMDSv2: <c>PUT
/// /latest/api/token</c> (with <c>X-aws-ec2-metadata-token-ttl-seconds</c>), then
/// <c>GET /latest/meta-data/placement/availability-zone</c> and <c>availability-zone-id</c> with the token
/// (401 without it). Change the zone, or make every request fail or go unanswered, at run time.
/// </remarks>
public sealed class TaskMetadataTestServer : IAsyncDisposable
{
    private const string TaskPath = "/v4/test-task/task";
    private const string Token = "test-imds-token";
    private readonly HttpExchange _http;
    private int _taskRequests;
    private int _tokenRequests;

    private TaskMetadataTestServer(IPAddress address, string? availabilityZone, string? availabilityZoneId)
    {
        AvailabilityZone = availabilityZone;
        AvailabilityZoneId = availabilityZoneId;
        _http = new HttpExchange(address, 0, HandleAsync);
        var authority = $"http://{_http.EndPoint.Address}:{_http.EndPoint.Port}";
        MetadataUri = new Uri(authority + "/v4/test-task");
        InstanceMetadataUri = new Uri(authority + "/");
    }

    /// <summary>Gets the task metadata endpoint: the value for <c>ECS_CONTAINER_METADATA_URI_V4</c>.</summary>
    public Uri MetadataUri { get; }

    /// <summary>Gets the base address of the instance metadata service it also plays (in place of <c>http://169.254.169.254/</c>).</summary>
    public Uri InstanceMetadataUri { get; }

    /// <summary>Gets the address and port the server listens on.</summary>
    public IPEndPoint EndPoint => _http.EndPoint;

    /// <summary>Gets or sets the zone both endpoints report; <see langword="null"/> leaves it out of the task document and answers 404 on IMDS.</summary>
    public string? AvailabilityZone { get; set; }

    /// <summary>Gets or sets the zone ID IMDS reports; <see langword="null"/> answers 404 (the task document never has one).</summary>
    public string? AvailabilityZoneId { get; set; }

    /// <summary>Gets or sets whether every request gets HTTP 500.</summary>
    public bool Failing { get; set; }

    /// <summary>Gets or sets whether requests are read but never answered (a metadata endpoint that hangs).</summary>
    public bool Unresponsive { get; set; }

    /// <summary>Gets how many task documents were asked for (answered or not).</summary>
    public int TaskRequestCount => Volatile.Read(ref _taskRequests);

    /// <summary>Gets how many IMDSv2 session tokens were asked for (answered or not).</summary>
    public int TokenRequestCount => Volatile.Read(ref _tokenRequests);

    /// <summary>Starts a server on 127.0.0.1 that reports <paramref name="availabilityZone"/>.</summary>
    /// <param name="availabilityZone">The zone, such as <c>eu-west-1a</c>; <see langword="null"/> for a document without one.</param>
    /// <returns>The running server.</returns>
    public static TaskMetadataTestServer Start(string? availabilityZone) => new(IPAddress.Loopback, availabilityZone, null);

    /// <summary>Starts a server on <paramref name="address"/> that reports a zone and its ID.</summary>
    /// <param name="address">A loopback address.</param>
    /// <param name="availabilityZone">The zone, such as <c>eu-west-1a</c>.</param>
    /// <param name="availabilityZoneId">The zone ID, such as <c>euw1-az1</c>.</param>
    /// <returns>The running server.</returns>
    public static TaskMetadataTestServer Start(IPAddress address, string? availabilityZone, string? availabilityZoneId)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The task metadata test server listens on loopback only, not {address}.", nameof(address));
        }

        return new(address, availabilityZone, availabilityZoneId);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _http.DisposeAsync();

    private async Task<HttpReplyData> HandleAsync(HttpRequestData request, CancellationToken cancellationToken)
    {
        switch (request.Method, request.Path)
        {
            case ("GET", TaskPath):
                Interlocked.Increment(ref _taskRequests);
                break;
            case ("PUT", "/latest/api/token"):
                Interlocked.Increment(ref _tokenRequests);
                break;
        }

        if (Unresponsive)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }

        if (Failing)
        {
            return Text(500, "Internal Server Error", "failing");
        }

        var zone = AvailabilityZone;
        switch (request.Method, request.Path)
        {
            case ("GET", TaskPath):
                return new(200, "OK", TaskDocument(zone), [new("Content-Type", "application/json")]);
            case ("PUT", "/latest/api/token"):
                return request.Headers.ContainsKey("X-aws-ec2-metadata-token-ttl-seconds")
                    ? Text(200, "OK", Token)
                    : Text(400, "Bad Request", "missing X-aws-ec2-metadata-token-ttl-seconds");
            case ("GET", "/latest/meta-data/placement/availability-zone" or "/latest/meta-data/placement/availability-zone-id"):
                if (!request.Headers.TryGetValue("X-aws-ec2-metadata-token", out var token) || token != Token)
                {
                    return Text(401, "Unauthorized", string.Empty);
                }

                var value = request.Path.EndsWith("-id", StringComparison.Ordinal) ? AvailabilityZoneId : zone;
                return value is null ? Text(404, "Not Found", string.Empty) : Text(200, "OK", value);
            default:
                return Text(404, "Not Found", string.Empty);
        }
    }

    private static HttpReplyData Text(int status, string reason, string body)
        => new(status, reason, Encoding.UTF8.GetBytes(body), [new("Content-Type", "text/plain")]);

    private static byte[] TaskDocument(string? zone)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Cluster", "arn:aws:ecs:eu-west-1:111122223333:cluster/test");
            json.WriteString("TaskARN", "arn:aws:ecs:eu-west-1:111122223333:task/test/test-task");
            json.WriteString("LaunchType", "FARGATE");
            if (zone is not null)
            {
                json.WriteString(nameof(AvailabilityZone), zone);
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
