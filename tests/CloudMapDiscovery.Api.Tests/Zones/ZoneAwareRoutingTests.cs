using System.Collections.Concurrent;
using System.Diagnostics;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Api.Tests.Zones;

/// <summary>Zone-aware routing end to end: the Cloud Map fake's AVAILABILITY_ZONE, loopback Kestrel tasks, a fake clock.</summary>
public sealed class ZoneAwareRoutingTests
{
    private static readonly string[] ThreeByThree = ["eu-west-1a", "eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1b", "eu-west-1c", "eu-west-1c", "eu-west-1c"];

    [Fact]
    public async Task ZoneAware_keeps_every_request_in_the_callers_zone_while_it_has_capacity()
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => o.Zone = "eu-west-1a");

        await rig.SendAsync(client, 30);

        rig.HitsIn("eu-west-1a").Should().Be(30);
        Enumerable.Range(0, 3).Should().OnlyContain(i => rig.Hits(i) == 10, "round robin still spreads over the local tasks");
        rig.Snapshot().ZoneRouting.Should().BeTrue();
    }

    [Fact]
    public async Task ZoneAware_spreads_over_every_zone_when_two_of_three_local_tasks_are_ejected_and_fails_nothing()
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => o.Zone = "eu-west-1a");
        await rig.SendAsync(client, 3);
        await rig.Tasks.KillAsync(0);
        await rig.Tasks.KillAsync(1);

        await rig.SendAsync(client, 10); // the two dead tasks fail their connects once each, are ejected, and are retried elsewhere
        rig.ResetHits();
        await rig.SendAsync(client, 140);

        rig.Failed.Should().Be(0);
        rig.Hits(2).Should().BeInRange(1, (140 / 7) + 2, "the lone local task gets its fair share of the seven available, not the zone's");
        rig.HitsIn("eu-west-1b").Should().BeGreaterThan(40);
        rig.HitsIn("eu-west-1c").Should().BeGreaterThan(40);
    }

    [Theory]
    [InlineData(LoadBalancingPolicy.RoundRobin)]
    [InlineData(LoadBalancingPolicy.PowerOfTwoChoices)]
    [InlineData(LoadBalancingPolicy.PeakEwma)]
    public async Task ZoneAware_composes_with_every_load_balancer_policy(LoadBalancingPolicy policy)
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => { o.Zone = "eu-west-1b"; o.LoadBalancer = policy; });

        await rig.SendAsync(client, 30);
        rig.HitsIn("eu-west-1b").Should().Be(30, "the policy chooses inside the zone set");
        for (var i = 3; i < 6; i++)
        {
            await rig.Tasks.KillAsync(i);
        }

        rig.ResetHits();
        await rig.SendAsync(client, 30);

        rig.Failed.Should().Be(0);
        (rig.HitsIn("eu-west-1a") + rig.HitsIn("eu-west-1c")).Should().Be(30);
    }

    [Fact]
    public async Task ZoneAware_fails_no_request_when_every_local_task_is_down()
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => o.Zone = "eu-west-1a");
        await rig.SendAsync(client, 3);
        for (var i = 0; i < 3; i++)
        {
            await rig.Tasks.KillAsync(i);
        }

        rig.ResetHits();
        await rig.SendAsync(client, 60);

        rig.Failed.Should().Be(0);
        (rig.HitsIn("eu-west-1b") + rig.HitsIn("eu-west-1c")).Should().Be(60);
    }

    [Fact]
    public async Task ZoneAware_finds_the_callers_zone_in_ecs_task_metadata()
    {
        await using var metadata = TaskMetadataTestServer.Start("eu-west-1b");
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(detector: new ZoneDetectorSettings(metadata.MetadataUri.ToString(), null, TimeSpan.FromSeconds(1)));

        await SendOnceDetectedAsync(rig, client, 30);

        rig.HitsIn("eu-west-1b").Should().Be(30);
        rig.Snapshot().CallerZone.Should().Be("eu-west-1b");
        metadata.TaskRequestCount.Should().Be(1);
        rig.Logs().Should().Contain(r => r.Id.Id == 300 && r.Message.Contains("eu-west-1b") && r.Message.Contains("ecs-task-metadata"));
    }

    [Fact]
    public async Task ZoneAware_asks_imds_v2_with_a_session_token_when_there_is_no_task_metadata()
    {
        await using var imds = TaskMetadataTestServer.Start(System.Net.IPAddress.Loopback, "eu-west-1c", "euw1-az3");
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(detector: new ZoneDetectorSettings(null, imds.InstanceMetadataUri, TimeSpan.FromSeconds(1)));

        await SendOnceDetectedAsync(rig, client, 30);

        rig.HitsIn("eu-west-1c").Should().Be(30);
        imds.TokenRequestCount.Should().Be(1);
        imds.TaskRequestCount.Should().Be(0);
    }

    [Fact]
    public async Task ZoneAware_asks_imds_when_task_metadata_fails_and_logs_where_the_zone_came_from()
    {
        await using var ecs = TaskMetadataTestServer.Start("eu-west-1a");
        ecs.Failing = true;
        await using var imds = TaskMetadataTestServer.Start(System.Net.IPAddress.Loopback, "eu-west-1b", null);
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(detector: new ZoneDetectorSettings(ecs.MetadataUri.ToString(), imds.InstanceMetadataUri, TimeSpan.FromSeconds(1)));

        await SendOnceDetectedAsync(rig, client, 30);

        rig.HitsIn("eu-west-1b").Should().Be(30);
        ecs.TaskRequestCount.Should().Be(1);
        rig.Logs().Should().Contain(r => r.Id.Id == 300 && r.Message.Contains("ec2-imds") && r.Message.Contains("zone ID unknown"));
    }

    [Fact]
    public async Task ZoneAware_configured_zone_wins_and_nothing_is_asked()
    {
        await using var metadata = TaskMetadataTestServer.Start("eu-west-1b");
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => o.Zone = "eu-west-1c", new ZoneDetectorSettings(metadata.MetadataUri.ToString(), metadata.InstanceMetadataUri, TimeSpan.FromSeconds(1)));

        await rig.SendAsync(client, 30);

        rig.HitsIn("eu-west-1c").Should().Be(30);
        metadata.TaskRequestCount.Should().Be(0);
        metadata.TokenRequestCount.Should().Be(0);
    }

    [Fact]
    public async Task ZoneAware_is_off_when_no_metadata_answers_in_time_and_says_so_once()
    {
        await using var metadata = TaskMetadataTestServer.Start("eu-west-1a");
        metadata.Unresponsive = true;
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(detector: new ZoneDetectorSettings(metadata.MetadataUri.ToString(), null, TimeSpan.FromSeconds(1)));

        await rig.SendAsync(client, 9);
        await Poll.UntilAsync(() => metadata.TaskRequestCount == 1, "the ask to be in flight");
        rig.Clock.Advance(TimeSpan.FromSeconds(1)); // the ask's bound runs on the injected clock
        await Poll.UntilAsync(() => rig.Logs().Any(r => r.Id.Id == 301), "the zone-unknown warning");
        rig.ResetHits();
        await rig.SendAsync(client, 90);

        rig.Failed.Should().Be(0);
        Enumerable.Range(0, 9).Should().OnlyContain(i => rig.Hits(i) == 10, "every zone, as without zone routing");
        rig.Logs().Where(r => r.Id.Id == 301).Should().ContainSingle().Which.Message.Should().Contain("did not answer within 1000 ms");
        rig.Snapshot().ZoneRouting.Should().BeFalse();
    }

    [Fact]
    public async Task ZoneAware_is_off_below_the_minimum_size_guard_and_logs_why()
    {
        await using var rig = await ZoneRig.StartAsync(["eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1c"]);
        var client = rig.Client(o => o.Zone = "eu-west-1a");

        await rig.SendAsync(client, 50);

        Enumerable.Range(0, 5).Should().OnlyContain(i => rig.Hits(i) == 10);
        rig.Snapshot().ZoneRoutingReason.Should().Contain("ZoneMinEndpoints (6)");
        rig.Logs().Should().ContainSingle(r => r.Id.Id == 303).Which.Message.Should().Contain(ZoneRig.Host).And.Contain("ZoneMinEndpoints");
    }

    [Fact]
    public async Task ZoneAware_turns_off_for_a_shared_namespace_without_zone_ids_and_says_why()
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var client = rig.Client(o => o.Zone = "eu-west-1a", api: o => o.OwnerAccount = "123456789012");

        await rig.SendAsync(client, 90);

        Enumerable.Range(0, 9).Should().OnlyContain(i => rig.Hits(i) == 10);
        rig.Logs().Should().ContainSingle(r => r.Id.Id == 303).Which.Message.Should().Contain("123456789012").And.Contain("zone IDs");
        rig.Snapshot().Endpoints.Should().OnlyContain(e => e.Locality == null && e.Zone != null);
    }

    [Fact]
    public async Task ZoneAware_compares_zone_ids_for_a_shared_namespace()
    {
        // In the owner's account, the caller's zone az2 is called eu-west-1a; in the caller's it is eu-west-1b.
        string[] ids = ["euw1-az2", "euw1-az2", "euw1-az2", "euw1-az1", "euw1-az1", "euw1-az1", "euw1-az3", "euw1-az3", "euw1-az3"];
        await using var rig = await ZoneRig.StartAsync(ThreeByThree, (i, a) => new(a) { ["AVAILABILITY_ZONE_ID"] = ids[i] });
        var client = rig.Client(o => { o.Zone = "eu-west-1b"; o.ZoneId = "euw1-az2"; }, api: o => o.OwnerAccount = "123456789012");

        await rig.SendAsync(client, 30);

        rig.HitsIn("eu-west-1a").Should().Be(30, "the zone ID, not the name, says where the caller is");
    }

    [Fact]
    public async Task ZoneAware_tags_requests_and_attempts_with_their_locality_and_shows_zones_in_the_snapshot()
    {
        await using var rig = await ZoneRig.StartAsync(ThreeByThree);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "CloudMapDiscovery",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var client = rig.Client(o => { o.Zone = "eu-west-1a"; o.ZoneMinHealthyLocal = 3; });
        using var requests = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(rig.Provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "CloudMapDiscovery", "cloudmap.requests");

        // The listener hears every test's spans: this test's are those under its own trace.
        using var test = new Activity(nameof(ZoneAware_tags_requests_and_attempts_with_their_locality_and_shows_zones_in_the_snapshot)).Start();
        await rig.SendAsync(client, 3);
        await rig.Tasks.KillAsync(0); // two local left: fewer than 3, so requests cross zones
        await rig.SendAsync(client, 12);

        var attempts = spans.Where(a => a.TraceId == test.TraceId && Equals(a.GetTagItem("server.address"), ZoneRig.Host)).Select(a => (string?)a.GetTagItem("cloudmap.zone.locality")).ToList();
        attempts.Should().Contain("local").And.Contain("cross_zone").And.NotContainNulls();
        requests.GetMeasurementSnapshot().Select(m => m.Tags["cloudmap.zone.locality"]).Should().Contain("local").And.Contain("cross_zone");
        var snapshot = rig.Snapshot();
        snapshot.CallerZone.Should().Be("eu-west-1a");
        snapshot.Endpoints.Select(e => e.Zone).Should().BeEquivalentTo(ThreeByThree);
        snapshot.Endpoints.Count(e => e.Locality == "local").Should().Be(3);
    }

    [Fact]
    public void ZoneAware_options_are_validated_with_messages_naming_the_option()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("x").AddCloudMapDiscovery(o =>
        {
            o.Zone = "EU West 1a";
            o.ZoneId = "";
            o.ZoneMinEndpoints = 0;
            o.ZoneMinHealthyLocal = 7;
        });
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("x");

        var message = act.Should().Throw<OptionsValidationException>().Which.Message;
        message.Should().Contain("Zone 'EU West 1a'").And.Contain("ZoneId ''").And.Contain("ZoneMinEndpoints must be from 1 to 1000 (was 0)");
    }

    // A first request shows zones, which starts detection in the background (the request does not wait); once the
    // balancer's plan is on, the hits are counted afresh.
    private static async Task SendOnceDetectedAsync(ZoneRig rig, HttpClient client, int count)
    {
        await rig.SendAsync(client, 1);
        await Poll.UntilAsync(() => rig.Snapshot().ZoneRouting, "zone routing to turn on");
        rig.ResetHits();
        await rig.SendAsync(client, count);
    }
}
