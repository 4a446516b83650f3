using System.Net;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Api.Tests.Client;

/// <summary>The client against the in-process Cloud Map data plane: shapes, filters, revisions and each error mapped.</summary>
public sealed class CloudMapApiClientTests : IAsyncDisposable
{
    private readonly CloudMapApiTestServer _server = CloudMapApiTestServer.Start();
    private readonly HttpClient _http = new();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Api_client_reads_instances_with_their_attributes_and_health()
    {
        _server.RegisterInstance("internal", "api", "task-1", ApiFixture.Ecs("127.0.0.2", 8080));
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.3", 8080, "eu-west-1b"), CloudMapHealthStatus.Unhealthy);

        var reply = await ApiFixture.Client(_server, _http).DiscoverInstancesAsync(ApiFixture.Query(health: "ALL"), TestContext.Current.CancellationToken);

        reply.Instances!.Select(i => i.InstanceId).Should().BeEquivalentTo("task-1", "task-2");
        var second = reply.Instances!.Single(i => i.InstanceId == "task-2");
        second.HealthStatus.Should().Be("UNHEALTHY");
        second.NamespaceName.Should().Be("internal");
        second.Attributes!["AVAILABILITY_ZONE"].Should().Be("eu-west-1b");
        reply.InstancesRevision.Should().Be(_server.GetRevision("internal", "api"));
    }

    [Fact]
    public async Task Api_fake_revision_moves_on_register_and_deregister_but_not_on_health()
    {
        var client = ApiFixture.Client(_server, _http);
        var ct = TestContext.Current.CancellationToken;
        _server.RegisterInstance("internal", "api", "task-1", ApiFixture.Ecs("127.0.0.2", 8080));
        var first = await client.DiscoverInstancesRevisionAsync(ApiFixture.Query(), ct);

        _server.SetHealthStatus("internal", "api", "task-1", CloudMapHealthStatus.Unhealthy);
        (await client.DiscoverInstancesRevisionAsync(ApiFixture.Query(), ct)).Should().Be(first);

        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.3", 8080));
        var second = await client.DiscoverInstancesRevisionAsync(ApiFixture.Query(), ct);
        second.Should().BeGreaterThan(first);

        _server.DeregisterInstance("internal", "api", "task-2");
        (await client.DiscoverInstancesRevisionAsync(ApiFixture.Query(), ct)).Should().BeGreaterThan(second);
        _server.GetCallCount(CloudMapApiClient.DiscoverInstancesRevision).Should().Be(4);
        _server.GetCallCount(CloudMapApiClient.DiscoverInstances).Should().Be(0);
    }

    [Theory]
    [InlineData("HEALTHY", new[] { "a" })]
    [InlineData("UNHEALTHY", new[] { "b" })]
    [InlineData("ALL", new[] { "a", "b" })]
    [InlineData("HEALTHY_OR_ELSE_ALL", new[] { "a" })]
    public async Task Api_fake_filters_by_health_status(string filter, string[] expected)
    {
        _server.RegisterInstance("internal", "api", "a", ApiFixture.Ecs("127.0.0.2", 1));
        _server.RegisterInstance("internal", "api", "b", ApiFixture.Ecs("127.0.0.3", 1), CloudMapHealthStatus.Unhealthy);

        var reply = await ApiFixture.Client(_server, _http).DiscoverInstancesAsync(ApiFixture.Query(health: filter), TestContext.Current.CancellationToken);

        reply.Instances!.Select(i => i.InstanceId).Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task Api_fake_fails_open_when_no_instance_is_healthy()
    {
        _server.RegisterInstance("internal", "api", "a", ApiFixture.Ecs("127.0.0.2", 1), CloudMapHealthStatus.Unhealthy);
        _server.RegisterInstance("internal", "api", "b", ApiFixture.Ecs("127.0.0.3", 1), CloudMapHealthStatus.Unhealthy);
        var client = ApiFixture.Client(_server, _http);
        var ct = TestContext.Current.CancellationToken;

        (await client.DiscoverInstancesAsync(ApiFixture.Query(health: "HEALTHY_OR_ELSE_ALL"), ct)).Instances.Should().HaveCount(2);
        (await client.DiscoverInstancesAsync(ApiFixture.Query(health: "HEALTHY"), ct)).Instances.Should().BeEmpty();
    }

    [Fact]
    public async Task Api_fake_applies_query_parameters_always_and_optional_parameters_only_when_they_match()
    {
        _server.RegisterInstance("internal", "api", "v1", new Dictionary<string, string>(ApiFixture.Ecs("127.0.0.2", 1)) { ["version"] = "1", ["cell"] = "a" });
        _server.RegisterInstance("internal", "api", "v2", new Dictionary<string, string>(ApiFixture.Ecs("127.0.0.3", 1)) { ["version"] = "2", ["cell"] = "a" });
        var client = ApiFixture.Client(_server, _http);
        var ct = TestContext.Current.CancellationToken;

        (await client.DiscoverInstancesAsync(ApiFixture.Query(query: new() { ["version"] = "2" }), ct)).Instances!.Select(i => i.InstanceId).Should().Equal("v2");
        (await client.DiscoverInstancesAsync(ApiFixture.Query(optional: new() { ["version"] = "1" }), ct)).Instances!.Select(i => i.InstanceId).Should().Equal("v1");
        (await client.DiscoverInstancesAsync(ApiFixture.Query(optional: new() { ["version"] = "9" }), ct)).Instances.Should().HaveCount(2);
        (await client.DiscoverInstancesAsync(ApiFixture.Query(query: new() { ["cell"] = "b" }), ct)).Instances.Should().BeEmpty();
    }

    [Theory]
    [InlineData("nope", "api", "NamespaceNotFound")]
    [InlineData("internal", "nope", "ServiceNotFound")]
    public async Task Api_client_maps_not_found_errors(string ns, string service, string code)
    {
        _server.RegisterInstance("internal", "api", "a", ApiFixture.Ecs("127.0.0.2", 1));

        var act = () => ApiFixture.Client(_server, _http).DiscoverInstancesAsync(ApiFixture.Query(ns, service), TestContext.Current.CancellationToken);

        var error = (await act.Should().ThrowAsync<CloudMapApiException>()).Which;
        error.ErrorCode.Should().Be(code);
        error.IsNotFound.Should().BeTrue();
        error.Message.Should().Contain("DiscoverInstances").And.Contain(code);
    }

    [Theory]
    [InlineData(CloudMapApiFaultKind.RequestLimitExceeded, "RequestLimitExceeded", HttpStatusCode.BadRequest)]
    [InlineData(CloudMapApiFaultKind.Throttling, "ThrottlingException", HttpStatusCode.BadRequest)]
    [InlineData(CloudMapApiFaultKind.InternalFailure, "InternalFailure", HttpStatusCode.InternalServerError)]
    [InlineData(CloudMapApiFaultKind.ServiceUnavailable, "ServiceUnavailable", HttpStatusCode.ServiceUnavailable)]
    [InlineData(CloudMapApiFaultKind.ErrorWithoutType, "Unknown", HttpStatusCode.BadRequest)]
    [InlineData(CloudMapApiFaultKind.MalformedBody, "MalformedReply", HttpStatusCode.OK)]
    public async Task Api_client_maps_faults_to_errors_naming_the_call_and_code(CloudMapApiFaultKind kind, string code, HttpStatusCode status)
    {
        _server.RegisterInstance("internal", "api", "a", ApiFixture.Ecs("127.0.0.2", 1));
        _server.InjectFault(new CloudMapApiFault(kind) { Count = 1 });

        var act = () => ApiFixture.Client(_server, _http).DiscoverInstancesAsync(ApiFixture.Query(), TestContext.Current.CancellationToken);

        var error = (await act.Should().ThrowAsync<CloudMapApiException>()).Which;
        error.ErrorCode.Should().Be(code);
        error.StatusCode.Should().Be(status);
        error.Operation.Should().Be("DiscoverInstances");
        error.Message.Should().Contain("DiscoverInstances").And.Contain(code);
        error.IsThrottling.Should().Be(kind is CloudMapApiFaultKind.RequestLimitExceeded or CloudMapApiFaultKind.Throttling);
    }

    [Fact]
    public async Task Api_fake_refuses_unsigned_requests_and_unknown_keys()
    {
        var ct = TestContext.Current.CancellationToken;
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, _server.ServiceUrl) { Content = new StringContent("{}") };
        unsigned.Headers.TryAddWithoutValidation("X-Amz-Target", "Route53AutoNaming_v20170314.DiscoverInstances");
        using var response = await _http.SendAsync(unsigned, ct);
        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await response.Content.ReadAsStringAsync(ct)).Should().Contain("MissingAuthenticationTokenException");

        await using var strict = CloudMapApiTestServer.Start(new CloudMapApiTestServerOptions { AccessKeyIds = { "AKIDOTHER" } });
        var act = () => ApiFixture.Client(strict, _http).DiscoverInstancesRevisionAsync(ApiFixture.Query(), ct);
        var error = (await act.Should().ThrowAsync<CloudMapApiException>()).Which;
        error.ErrorCode.Should().Be("UnrecognizedClientException");
        error.IsAuthorization.Should().BeTrue();
        error.Message.Should().NotContain(ApiFixture.SecretKey).And.NotContain(ApiFixture.SessionToken);
        strict.RefusedCount.Should().Be(1);
        _server.RefusedCount.Should().Be(1);
    }

    [Fact]
    public async Task Api_fake_rejects_max_results_above_the_models_limit()
    {
        var ct = TestContext.Current.CancellationToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, _server.ServiceUrl) { Content = new StringContent("""{"NamespaceName":"internal","ServiceName":"api","MaxResults":1001}""") };
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Route53AutoNaming_v20170314.DiscoverInstances");
        CloudMapDiscovery.Api.Signing.SigV4Signer.Sign(request, await request.Content.ReadAsByteArrayAsync(ct), new("AKID", "secret", null), "eu-west-1", "servicediscovery", DateTimeOffset.UtcNow);

        using var response = await _http.SendAsync(request, ct);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync(ct)).Should().Contain("\"__type\":\"InvalidInput\"");
    }

    [Fact]
    public async Task Api_client_reads_a_thousand_instances_with_large_attributes()
    {
        for (var i = 0; i < 1000; i++)
        {
            var attributes = ApiFixture.Ecs($"10.0.{i / 250}.{i % 250}", 8080);
            for (var a = 0; a < 23; a++)
            {
                attributes[$"custom{a}"] = new string('x', 200);
            }

            _server.RegisterInstance("internal", "api", $"task-{i}", attributes);
        }

        var reply = await ApiFixture.Client(_server, _http).DiscoverInstancesAsync(ApiFixture.Query(), TestContext.Current.CancellationToken);

        reply.Instances.Should().HaveCount(1000);
        reply.Instances!.Should().OnlyContain(i => i.Attributes!.Count == 30);
    }
}
