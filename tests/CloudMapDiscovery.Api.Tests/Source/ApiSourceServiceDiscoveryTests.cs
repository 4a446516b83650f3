using System.Net;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>The Microsoft.Extensions.ServiceDiscovery provider with <c>Source = Api</c>: the same source behind the same cache.</summary>
public sealed class ApiSourceServiceDiscoveryTests
{
    [Fact]
    public async Task Api_source_serves_the_service_discovery_provider_with_each_instances_port()
    {
        await using var cloudMap = CloudMapApiTestServer.Start();
        cloudMap.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 8080));
        cloudMap.RegisterInstance("internal", "api", "task-3", ApiFixture.Ecs("127.0.0.3", 8081));
        var services = new ServiceCollection();
        services.AddSingleton(ApiFixture.Credentials);
        services.AddCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = cloudMap.ServiceUrl.ToString(); });
        services.AddCloudMapServiceEndpointProvider(o => o.Source = CloudMapEndpointSourceKind.Api);
        await using var provider = services.BuildServiceProvider();

        var source = await provider.GetRequiredService<ServiceEndpointResolver>().GetEndpointsAsync("http://api.internal:3000", TestContext.Current.CancellationToken);

        source.Endpoints.Select(e => e.EndPoint).Should().BeEquivalentTo(new[] { new IPEndPoint(IPAddress.Parse("127.0.0.2"), 8080), new IPEndPoint(IPAddress.Parse("127.0.0.3"), 8081) });
        cloudMap.GetCallCount("DiscoverInstances").Should().Be(1);
    }
}
