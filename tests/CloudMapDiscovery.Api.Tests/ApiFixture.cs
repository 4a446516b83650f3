using Amazon.Runtime;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests;

/// <summary>Test keys and a client pointed at a <see cref="CloudMapApiTestServer"/>.</summary>
internal static class ApiFixture
{
    public const string AccessKeyId = "AKIDTESTFIXTURE";
    public const string SecretKey = "fixture-secret-key-never-logged";
    public const string SessionToken = "fixture-session-token-never-logged";

    public static AWSCredentials Credentials => new SessionAWSCredentials(AccessKeyId, SecretKey, SessionToken);

    public static Dictionary<string, string> Ecs(string ip, int port, string zone = "eu-west-1a") => new()
    {
        ["AWS_INSTANCE_IPV4"] = ip,
        ["AWS_INSTANCE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["AVAILABILITY_ZONE"] = zone,
        ["REGION"] = "eu-west-1",
        ["ECS_CLUSTER_NAME"] = "cluster",
        ["ECS_SERVICE_NAME"] = "api",
        ["ECS_TASK_DEFINITION_FAMILY"] = "api",
    };

    public static CloudMapApiClient Client(CloudMapApiTestServer server, HttpClient http, AWSCredentials? credentials = null, TimeProvider? clock = null)
        => new(http, server.ServiceUrl, "eu-west-1", new AwsKeySource(credentials ?? Credentials), clock ?? new FakeTimeProvider(DateTimeOffset.UtcNow));

    public static DiscoverQuery Query(string ns = "internal", string service = "api", string health = "HEALTHY_OR_ELSE_ALL",
        Dictionary<string, string>? query = null, Dictionary<string, string>? optional = null, string? owner = null)
        => new(ns, service, health, query, optional, owner);
}
