using System.Net;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Api.Source;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>The API source's refresh by revision, its backoff, budget and instance reading, against the fake on a fake clock.</summary>
public sealed class ApiEndpointSourceTests
{
    private static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Api_source_in_steady_state_makes_one_revision_call_per_ask_and_one_full_call_per_health_interval()
    {
        await using var rig = new SourceRig();
        rig.Register(3);

        for (var ask = 0; ask < 12; ask++) // one minute of asks, one per MinTtl
        {
            (await rig.AskAsync()).Instances.Should().HaveCount(3);
            rig.Clock.Advance(MinTtl);
        }

        rig.Fulls.Should().Be(2, "the first ask and the one after 30 s read the instances");
        rig.Revisions.Should().Be(10, "every other ask only checks the revision");
    }

    [Fact]
    public async Task Api_source_reads_the_instances_again_as_soon_as_the_revision_moves()
    {
        await using var rig = new SourceRig();
        rig.Register(2);
        await rig.AskAsync();
        rig.Clock.Advance(MinTtl);

        rig.Server.RegisterInstance("internal", "api", "task-9", ApiFixture.Ecs("127.0.0.9", 8080));
        var answer = await rig.AskAsync();

        answer.Instances.Select(i => i.InstanceId).Should().Contain("task-9");
        rig.Fulls.Should().Be(2);
        rig.Revisions.Should().Be(1);
    }

    [Fact]
    public async Task Api_source_sees_a_health_change_within_the_health_refresh_interval_though_the_revision_stays()
    {
        await using var rig = new SourceRig();
        rig.Register(2);
        (await rig.AskAsync()).Instances.Should().HaveCount(2);
        rig.Server.SetHealthStatus("internal", "api", "task-2", CloudMapHealthStatus.Unhealthy);

        rig.Clock.Advance(MinTtl);
        (await rig.AskAsync()).Instances.Should().HaveCount(2, "the revision did not move");
        rig.Clock.Advance(TimeSpan.FromSeconds(25));
        var answer = await rig.AskAsync();

        answer.Instances.Select(i => i.InstanceId).Should().Equal("task-3");
    }

    [Fact]
    public async Task Api_source_when_throttled_keeps_the_last_good_answer_and_backs_off()
    {
        await using var rig = new SourceRig();
        rig.Register(2);
        await rig.AskAsync();
        rig.Server.InjectFault(new CloudMapApiFault(CloudMapApiFaultKind.RequestLimitExceeded));

        var calls = 0;
        var asks = 0;
        for (var i = 0; i < 60; i++) // five minutes of asks while AWS throttles every call
        {
            rig.Clock.Advance(MinTtl);
            var before = rig.Revisions + rig.Fulls;
            (await rig.AskAsync()).Instances.Should().HaveCount(2, "the last good answer is served");
            calls += rig.Revisions + rig.Fulls - before;
            asks++;
        }

        calls.Should().BeLessThan(asks / 2, "calls back off exponentially beyond the normal interval");
        calls.Should().BeGreaterThan(0);
        rig.Logger.Collector.GetSnapshot().Should().Contain(r => r.Message.Contains("RequestLimitExceeded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Api_source_when_throttled_with_no_answer_fails_and_makes_no_call_during_the_backoff()
    {
        await using var rig = new SourceRig();
        rig.Register(1);
        rig.Server.InjectFault(new CloudMapApiFault(CloudMapApiFaultKind.Throttling) { Count = 1 });

        var first = async () => await rig.AskAsync();
        (await first.Should().ThrowAsync<CloudMapApiException>()).Which.IsThrottling.Should().BeTrue();
        var second = async () => await rig.AskAsync();
        await second.Should().ThrowAsync<CloudMapApiException>();

        rig.Fulls.Should().Be(1, "the second ask falls inside the backoff");
        rig.Clock.Advance(TimeSpan.FromSeconds(11)); // past the first backoff's ceiling (full jitter over 10 s)
        (await rig.AskAsync()).Instances.Should().HaveCount(1);
    }

    [Theory]
    [InlineData(CloudMapApiFaultKind.InternalFailure)]
    [InlineData(CloudMapApiFaultKind.ServiceUnavailable)]
    [InlineData(CloudMapApiFaultKind.MalformedBody)]
    public async Task Api_source_fails_on_server_errors_so_that_the_cache_serves_its_answer_stale(CloudMapApiFaultKind kind)
    {
        await using var rig = new SourceRig(o => o.HealthRefreshInterval = TimeSpan.FromSeconds(1));
        rig.Register(2);
        await rig.AskAsync();
        rig.Server.InjectFault(new CloudMapApiFault(kind));
        rig.Clock.Advance(MinTtl);

        var act = async () => await rig.AskAsync();

        var error = (await act.Should().ThrowAsync<CloudMapApiException>()).Which;
        error.Message.Should().Contain("DiscoverInstances");
        error.IsThrottling.Should().BeFalse();
    }

    [Theory]
    [InlineData("nothere.internal", "ServiceNotFound")]
    [InlineData("api.elsewhere", "NamespaceNotFound")]
    public async Task Api_source_gives_a_negative_answer_for_an_unknown_service_or_namespace(string host, string code)
    {
        await using var rig = new SourceRig();
        rig.Register(1);

        var answer = await rig.AskAsync(host);

        answer.Instances.Should().BeEmpty();
        answer.NoInstancesReason.Should().Contain(code);
    }

    [Fact]
    public async Task Api_source_spends_no_more_than_the_process_budget()
    {
        await using var rig = new SourceRig(o => o.MaxCallsPerSecond = 2);
        for (var s = 0; s < 10; s++)
        {
            rig.Server.RegisterInstance("internal", $"svc{s}", "task", ApiFixture.Ecs("127.0.0.2", 80));
        }

        var failures = 0;
        for (var s = 0; s < 10; s++)
        {
            try
            {
                await rig.AskAsync($"svc{s}.internal");
            }
            catch (CloudMapApiException ex) when (ex.ErrorCode == "BudgetSpent")
            {
                ex.Message.Should().Contain("MaxCallsPerSecond");
                failures++;
            }
        }

        rig.Fulls.Should().Be(4, "a burst of twice the rate, then nothing until tokens come back");
        failures.Should().Be(6);
    }

    [Fact]
    public async Task Api_source_skips_an_instance_without_an_address_and_logs_it_once()
    {
        await using var rig = new SourceRig(o => o.HealthRefreshInterval = TimeSpan.FromSeconds(1));
        rig.Register(1);
        rig.Server.RegisterInstance("internal", "api", "alias", new Dictionary<string, string> { ["AWS_ALIAS_DNS_NAME"] = "x.example.com" });

        (await rig.AskAsync()).Instances.Select(i => i.InstanceId).Should().Equal("task-2");
        rig.Clock.Advance(MinTtl);
        (await rig.AskAsync()).Instances.Should().HaveCount(1);

        rig.Fulls.Should().Be(2);
        rig.Logger.Collector.GetSnapshot().Count(r => r.Message.Contains("alias", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task Api_source_reads_ipv6_addresses_and_leaves_the_port_to_the_url_when_none_is_registered()
    {
        await using var rig = new SourceRig();
        rig.Server.RegisterInstance("internal", "api", "v6", new Dictionary<string, string> { ["AWS_INSTANCE_IPV6"] = "::1" });
        rig.Server.RegisterInstance("internal", "api", "bad-port", new Dictionary<string, string> { ["AWS_INSTANCE_IPV4"] = "127.0.0.5", ["AWS_INSTANCE_PORT"] = "70000" });

        var answer = await rig.AskAsync();

        var only = answer.Instances.Should().ContainSingle().Subject;
        only.Address.Should().Be(IPAddress.IPv6Loopback);
        only.Port.Should().BeNull();
    }

    [Fact]
    public async Task Api_source_maps_the_host_to_service_and_namespace_and_refuses_a_single_label()
    {
        ApiEndpointSource.Split("api.my.namespace").Should().Be(("api", "my.namespace"));
        await using var rig = new SourceRig();

        var act = async () => await rig.AskAsync("api");

        (await act.Should().ThrowAsync<ServiceDiscoveryException>()).Which.Message.Should().Contain("<service>.<namespace>");
    }

    [Fact]
    public async Task Api_source_passes_the_filters_of_its_options_to_the_api()
    {
        await using var rig = new SourceRig(o => { o.HealthStatus = "ALL"; o.QueryParameters["version"] = "2"; });
        rig.Server.RegisterInstance("internal", "api", "v1", new Dictionary<string, string>(ApiFixture.Ecs("127.0.0.2", 80)) { ["version"] = "1" });
        rig.Server.RegisterInstance("internal", "api", "v2", new Dictionary<string, string>(ApiFixture.Ecs("127.0.0.3", 80)) { ["version"] = "2" }, CloudMapHealthStatus.Unhealthy);

        (await rig.AskAsync()).Instances.Select(i => i.InstanceId).Should().Equal("v2");
    }

    [Fact]
    public async Task Api_source_keeps_a_name_while_any_cache_tracks_it_and_drops_it_with_the_last()
    {
        await using var rig = new SourceRig();
        rig.Register(2);
        var first = rig.Source.Track("api.internal");
        var second = rig.Source.Track("api.internal");
        await rig.Source.ResolveAsync("api.internal", TestContext.Current.CancellationToken);

        first.Dispose();
        first.Dispose(); // a second dispose must not let go of the other cache's hold
        rig.Source.NameCount.Should().Be(1);
        rig.Clock.Advance(MinTtl);
        await rig.Source.ResolveAsync("api.internal", TestContext.Current.CancellationToken);
        rig.Fulls.Should().Be(1, "the state kept for the other cache still knows the revision");

        second.Dispose();
        rig.Source.NameCount.Should().Be(0);
    }

    [Fact]
    public async Task Api_source_keeps_no_state_for_names_asked_without_being_tracked()
    {
        await using var rig = new SourceRig();
        rig.Register(1);

        for (var i = 0; i < 3; i++)
        {
            (await rig.Source.ResolveAsync("api.internal", TestContext.Current.CancellationToken)).Instances.Should().ContainSingle();
            rig.Clock.Advance(MinTtl);
        }

        rig.Source.NameCount.Should().Be(0);
        rig.Fulls.Should().Be(3, "with no state kept, each ask reads the instances");
    }
}
