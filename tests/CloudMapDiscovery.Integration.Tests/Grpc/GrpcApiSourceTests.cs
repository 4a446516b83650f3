using System.Globalization;
using Amazon.Runtime;
using CloudMapDiscovery.Api;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Integration.Tests.Grpc;

/// <summary>A typed gRPC client whose discovery reads Cloud Map's DiscoverInstances API (the Testing package's fake) instead of DNS.</summary>
[Collection(IntegrationGroup.Name)]
public sealed class GrpcApiSourceTests
{
    [Fact]
    public async Task Grpc_calls_spread_over_the_tasks_the_api_source_finds_and_dns_is_never_asked()
    {
        await using var api = CloudMapApiTestServer.Start();
        await using var h = await GrpcHarness.StartAsync(
            3,
            configure: o => o.Source = CloudMapEndpointSourceKind.Api,
            client: b => b.Services
                .AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDEXAMPLE", "not-a-real-secret"))
                .AddCloudMapApi(o =>
                {
                    o.Region = "eu-west-1";
                    o.ServiceUrl = api.ServiceUrl.ToString();
                }));
        var addresses = h.Tasks.Tasks.Addresses;
        for (var i = 0; i < addresses.Length; i++)
        {
            api.RegisterInstance("internal", "name", $"task-{i}", new Dictionary<string, string>
            {
                ["AWS_INSTANCE_IPV4"] = addresses[i].ToString(),
                ["AWS_INSTANCE_PORT"] = h.Tasks.Port.ToString(CultureInfo.InvariantCulture),
            });
        }

        var replies = new List<WhoReply>();
        for (var i = 0; i < 6; i++)
        {
            replies.Add(await h.Client.WhoAsync(new WhoRequest(), cancellationToken: TestContext.Current.CancellationToken));
        }

        replies.Select(r => r.Task).Distinct().Should().BeEquivalentTo(addresses.Select(a => a.ToString()));
        replies.Should().OnlyContain(r => r.Authority == h.Authority, ":authority carries the service name, not the task address");
        h.Snapshot().Endpoints.Should().OnlyContain(e => e.InstanceId != null && e.InstanceId.StartsWith("task-", StringComparison.Ordinal));
        api.GetCallCount("DiscoverInstances").Should().BeGreaterThan(0);
        h.Dns.QueryCount.Should().Be(0, "a client whose source is the API never asks DNS");
    }
}
