using System.Text;
using System.Text.Json;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Answers the Cloud Map data plane's two operations the way AWS does: AWS JSON 1.1, SigV4 checked for form, the model's errors.</summary>
internal sealed class ApiRequestHandler
{
    public const string TargetPrefix = "Route53AutoNaming_v20170314.";
    public const string DiscoverInstances = "DiscoverInstances";
    public const string DiscoverInstancesRevision = "DiscoverInstancesRevision";
    private const string JsonType = "application/x-amz-json-1.1";

    private readonly ApiRegistry _registry;
    private readonly CloudMapApiTestServerOptions _options;
    private readonly ApiFaults _faults;
    private readonly ApiCounters _counters;

    public ApiRequestHandler(ApiRegistry registry, CloudMapApiTestServerOptions options, ApiFaults faults, ApiCounters counters)
    {
        _registry = registry;
        _options = options;
        _faults = faults;
        _counters = counters;
    }

    public async Task<HttpReplyData> HandleAsync(HttpRequestData request, CancellationToken cancellationToken)
    {
        if (request.Method != "POST" || request.Path != "/")
        {
            return Error(404, "UnknownOperationException", $"No operation at {request.Method} {request.Path}.");
        }

        var target = request.Headers.GetValueOrDefault("X-Amz-Target") ?? string.Empty;
        var operation = target.StartsWith(TargetPrefix, StringComparison.Ordinal) ? target[TargetPrefix.Length..] : string.Empty;
        if (operation is not (DiscoverInstances or DiscoverInstancesRevision))
        {
            return Error(400, "UnknownOperationException", $"Unknown operation '{target}'.");
        }

        if (SignatureCheck.Refusal(request, _options) is { } refusal)
        {
            _counters.Refused(operation);
            return Error(refusal.Status, refusal.Type, refusal.Message);
        }

        _counters.Called(operation);
        if (_faults.Take(operation) is { } fault)
        {
            switch (fault.Kind)
            {
                case CloudMapApiFaultKind.RequestLimitExceeded:
                    return Error(400, "RequestLimitExceeded", "The operation can't be completed because you've reached the quota for the number of requests.");
                case CloudMapApiFaultKind.Throttling:
                    return Error(400, "ThrottlingException", "Rate exceeded");
                case CloudMapApiFaultKind.InternalFailure:
                    return Error(500, "InternalFailure", "The request processing has failed because of an unknown error.");
                case CloudMapApiFaultKind.ServiceUnavailable:
                    return Error(503, "ServiceUnavailable", "The service is unavailable. Please try again later.");
                case CloudMapApiFaultKind.MalformedBody:
                    return Reply(200, "OK", """{"Instances":[{"InstanceId":"i-1","Attri"""u8.ToArray());
                case CloudMapApiFaultKind.ErrorWithoutType:
                    return Reply(400, "Bad Request", """{"message":"Something went wrong"}"""u8.ToArray());
                case CloudMapApiFaultKind.Delay:
                    await Task.Delay(fault.Delay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        DiscoverRequest input;
        try
        {
            input = DiscoverRequest.Parse(request.Body);
        }
        catch (JsonException ex)
        {
            return Error(400, "SerializationException", $"Cannot read the request body: {ex.Message}");
        }

        if (input.Invalid is { } invalid)
        {
            return Error(400, "InvalidInput", invalid);
        }

        if (input.OwnerAccount is { } owner && owner != _options.AccountId)
        {
            return Error(400, "NamespaceNotFound", $"Namespace {input.NamespaceName} of account {owner} not found.");
        }

        var (view, missing) = _registry.Find(input.NamespaceName, input.ServiceName);
        if (view is null)
        {
            return Error(400, missing!, missing == "NamespaceNotFound" ? $"Namespace {input.NamespaceName} not found." : $"Service {input.ServiceName} not found.");
        }

        return operation == DiscoverInstancesRevision
            ? Reply(200, "OK", ApiReplies.Revision(view.Revision))
            : Reply(200, "OK", ApiReplies.Instances(input, view));
    }

    private static HttpReplyData Error(int status, string type, string message)
    {
        var reply = Reply(status, status == 404 ? "Not Found" : status >= 500 ? "Server Error" : status == 403 ? "Forbidden" : "Bad Request", ApiReplies.Error(type, message));
        return reply with { Headers = [.. reply.Headers, new("x-amzn-ErrorType", type)] };
    }

    private static HttpReplyData Reply(int status, string reason, byte[] body)
        => new(status, reason, body, [new("Content-Type", JsonType), new("x-amzn-RequestId", Guid.NewGuid().ToString())]);
}

/// <summary>A DiscoverInstances or DiscoverInstancesRevision request as the model defines it, or what is wrong with it.</summary>
internal sealed record DiscoverRequest(
    string NamespaceName,
    string ServiceName,
    int MaxResults,
    string HealthStatus,
    IReadOnlyDictionary<string, string> QueryParameters,
    IReadOnlyDictionary<string, string> OptionalParameters,
    string? OwnerAccount,
    string? Invalid)
{
    private static readonly string[] HealthFilters = ["HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL"];

    public static DiscoverRequest Parse(byte[] body)
    {
        using var document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("The body is not a JSON object.");
        }

        string? Text(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        var ns = Text("NamespaceName");
        var service = Text("ServiceName");
        var health = Text("HealthStatus") ?? "HEALTHY";
        var max = root.TryGetProperty(nameof(MaxResults), out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : 100;
        string? invalid = null;
        if (string.IsNullOrEmpty(ns) || string.IsNullOrEmpty(service))
        {
            invalid = "NamespaceName and ServiceName are required.";
        }
        else if (max is < 1 or > 1000)
        {
            invalid = $"MaxResults must be between 1 and 1000, was {max}.";
        }
        else if (!HealthFilters.Contains(health))
        {
            invalid = $"HealthStatus '{health}' is not one of {string.Join(", ", HealthFilters)}.";
        }

        return new DiscoverRequest(ns ?? string.Empty, service ?? string.Empty, max, health, Map(root, "QueryParameters"), Map(root, "OptionalParameters"), Text("OwnerAccount"), invalid);
    }

    private static Dictionary<string, string> Map(JsonElement root, string name)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in p.EnumerateObject())
            {
                map[entry.Name] = entry.Value.GetString() ?? string.Empty;
            }
        }

        return map;
    }
}

/// <summary>The bodies of the replies, written as AWS writes them.</summary>
internal static class ApiReplies
{
    public static byte[] Revision(long revision) => Write(w => w.WriteNumber("InstancesRevision", revision));

    public static byte[] Error(string type, string message) => Write(w =>
    {
        w.WriteString("__type", type);
        w.WriteString("Message", message);
    });

    /// <summary>The instances the request selects: health filter, then QueryParameters, then OptionalParameters if any match; in random order; at most MaxResults.</summary>
    public static byte[] Instances(DiscoverRequest request, ApiServiceView view)
    {
        IEnumerable<ApiInstance> selected = view.Instances.Where(i => Matches(i, request.QueryParameters)).ToList();
        if (view.HealthChecked)
        {
            selected = request.HealthStatus switch
            {
                "ALL" => selected,
                "UNHEALTHY" => selected.Where(i => i.Health == CloudMapHealthStatus.Unhealthy),
                "HEALTHY_OR_ELSE_ALL" => selected.Any(i => i.Health == CloudMapHealthStatus.Healthy) ? selected.Where(i => i.Health == CloudMapHealthStatus.Healthy) : selected,
                _ => selected.Where(i => i.Health == CloudMapHealthStatus.Healthy),
            };
        }

        var list = selected.ToList();
        if (request.OptionalParameters.Count > 0 && list.Where(i => Matches(i, request.OptionalParameters)).ToList() is { Count: > 0 } preferred)
        {
            list = preferred;
        }

        var shuffled = list.ToArray();
        Random.Shared.Shuffle(shuffled);
        return Write(w =>
        {
            w.WriteStartArray("Instances");
            foreach (var instance in shuffled.Take(request.MaxResults))
            {
                w.WriteStartObject();
                w.WriteString("InstanceId", instance.Id);
                w.WriteString("NamespaceName", request.NamespaceName);
                w.WriteString("ServiceName", request.ServiceName);
                w.WriteString("HealthStatus", view.HealthChecked ? Health(instance.Health) : "UNKNOWN");
                w.WriteStartObject("Attributes");
                foreach (var (key, value) in instance.Attributes)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("InstancesRevision", view.Revision);
        });
    }

    private static bool Matches(ApiInstance instance, IReadOnlyDictionary<string, string> filter)
        => filter.All(f => instance.Attributes.TryGetValue(f.Key, out var v) && v == f.Value);

    private static string Health(CloudMapHealthStatus health) => health switch
    {
        CloudMapHealthStatus.Healthy => "HEALTHY",
        CloudMapHealthStatus.Unhealthy => "UNHEALTHY",
        _ => "UNKNOWN",
    };

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
