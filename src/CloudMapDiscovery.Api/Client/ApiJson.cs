using System.Text.Json.Serialization;

namespace CloudMapDiscovery.Api.Client;

/// <summary>The body of a <c>DiscoverInstances</c> or <c>DiscoverInstancesRevision</c> request (the model's member names and casing).</summary>
internal sealed class DiscoverRequestBody
{
    public required string NamespaceName { get; init; }

    public required string ServiceName { get; init; }

    public int? MaxResults { get; init; }

    public IReadOnlyDictionary<string, string>? QueryParameters { get; init; }

    public IReadOnlyDictionary<string, string>? OptionalParameters { get; init; }

    public string? HealthStatus { get; init; }

    public string? OwnerAccount { get; init; }
}

/// <summary>The reply of <c>DiscoverInstances</c>.</summary>
internal sealed class DiscoverInstancesReply
{
    public List<InstanceSummary>? Instances { get; init; }

    public long? InstancesRevision { get; init; }
}

/// <summary>One <c>HttpInstanceSummary</c>.</summary>
internal sealed class InstanceSummary
{
    public string? InstanceId { get; init; }

    public string? NamespaceName { get; init; }

    public string? ServiceName { get; init; }

    public string? HealthStatus { get; init; }

    public Dictionary<string, string>? Attributes { get; init; }
}

/// <summary>The reply of <c>DiscoverInstancesRevision</c>.</summary>
internal sealed class DiscoverInstancesRevisionReply
{
    public long? InstancesRevision { get; init; }
}

/// <summary>An AWS JSON error body: <c>__type</c> and a message (<c>Message</c> or <c>message</c>).</summary>
internal sealed class ErrorReply
{
    [JsonPropertyName("__type")]
    public string? Type { get; init; }

    public string? Message { get; init; }
}

/// <summary>The JSON contracts, generated at compile time (trimming and native AOT keep them).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(DiscoverRequestBody))]
[JsonSerializable(typeof(DiscoverInstancesReply))]
[JsonSerializable(typeof(DiscoverInstancesRevisionReply))]
[JsonSerializable(typeof(ErrorReply))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
