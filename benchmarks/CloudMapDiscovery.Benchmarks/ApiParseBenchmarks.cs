using System.Text.Json;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Api.Source;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// The API source's read of a full <c>DiscoverInstances</c> reply: 1,000 instances (the service maximum), each with
/// the seven attributes ECS registers; target ≤ 2 ms, allocation bounded by what is kept.
/// </summary>
[MemoryDiagnoser]
public class ApiParseBenchmarks
{
    private byte[] _reply = [];

    [GlobalSetup]
    public void Setup()
    {
        var instances = Enumerable.Range(0, 1000).Select(i => new InstanceSummary
        {
            InstanceId = $"{Guid.NewGuid():N}",
            NamespaceName = "internal",
            ServiceName = "api",
            HealthStatus = "HEALTHY",
            Attributes = new Dictionary<string, string>
            {
                ["AWS_INSTANCE_IPV4"] = $"10.0.{i / 250}.{(i % 250) + 1}",
                ["AWS_INSTANCE_PORT"] = "8080",
                ["AVAILABILITY_ZONE"] = $"eu-west-1{(char)('a' + (i % 3))}",
                ["REGION"] = "eu-west-1",
                ["ECS_CLUSTER_NAME"] = "production-cluster",
                ["ECS_SERVICE_NAME"] = "api-service",
                ["ECS_TASK_DEFINITION_FAMILY"] = "api-task-family",
            },
        }).ToList();
        _reply = JsonSerializer.SerializeToUtf8Bytes(new DiscoverInstancesReply { Instances = instances, InstancesRevision = 42 }, ApiJsonContext.Default.DiscoverInstancesReply);
    }

    /// <summary>The JSON alone, read into a DOM: what any reader pays at least.</summary>
    [Benchmark(Baseline = true)]
    public int JsonDocumentParse()
    {
        using var document = JsonDocument.Parse(_reply);
        return document.RootElement.GetProperty("Instances").GetArrayLength();
    }

    /// <summary>The source's read: the generated deserializer, then addresses, ports and attributes into instances.</summary>
    [Benchmark]
    public int DeserializeAndRead()
    {
        var reply = JsonSerializer.Deserialize(_reply, ApiJsonContext.Default.DiscoverInstancesReply)!;
        return InstanceReader.Read(reply.Instances!).Usable.Count;
    }
}
