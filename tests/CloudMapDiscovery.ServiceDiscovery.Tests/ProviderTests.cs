using System.Net;
using CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;
using static CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure.ProviderHarness;

namespace CloudMapDiscovery.ServiceDiscovery.Tests;

/// <summary>
/// What the provider gives Microsoft.Extensions.ServiceDiscovery for a query, which queries it leaves to the other
/// providers, and how its options are read: through <see cref="ServiceEndpointResolver"/> (the resolver YARP uses)
/// or the factory, against DnsTestServer on a manual clock.
/// </summary>
public sealed class ProviderTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("http://name.internal:3000", 3000, "name.internal:3000")]
    [InlineData("name.internal:3000", 3000, "name.internal:3000")]
    [InlineData("https+http://name.internal:8443", 8443, "name.internal:8443")]
    [InlineData("http://name.internal", 0, "name.internal")]
    [InlineData("http://name.internal:80", 0, "name.internal")]
    [InlineData("http://_grpc.name.internal:3000", 3000, "name.internal:3000")]
    public async Task A_records_get_the_port_the_service_name_writes_and_its_authority_as_host_name(string query, int port, string authority)
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 2, 3);

        var source = await h.Resolver.GetEndpointsAsync(query, TestContext.Current.CancellationToken);

        source.Endpoints.Select(e => e.EndPoint).Should().Equal(new IPEndPoint(Ip(2), port), new IPEndPoint(Ip(3), port));
        source.Endpoints.Should().AllSatisfy(e => e.Features.Get<IHostNameFeature>()!.HostName.Should().Be(authority));
        source.Endpoints.Should().AllSatisfy(e => e.Features.Get<IServiceEndpointProvider>()!.ToString().Should().Be("Cloud Map"));
    }

    [Fact]
    public async Task Srv_records_give_each_address_the_port_dns_gives_it()
    {
        await using var h = await StartAsync(o => o.RecordTypes = DiscoveryRecordTypes.Srv);
        h.Server.AddAddress("task-a.name", Ip(2), Ttl);
        h.Server.AddAddress("task-b.name", Ip(3), Ttl);
        h.Server.AddService("name", 1, 1, 32768, "task-a.name", Ttl);
        h.Server.AddService("name", 1, 1, 32769, "task-b.name", Ttl);

        var source = await h.Resolver.GetEndpointsAsync("http://name.internal", TestContext.Current.CancellationToken);

        source.Endpoints.Select(e => e.EndPoint).Should().BeEquivalentTo(new[] { new IPEndPoint(Ip(2), 32768), new IPEndPoint(Ip(3), 32769) });
    }

    [Fact]
    public async Task Aaaa_records_give_ipv6_endpoints()
    {
        await using var h = await StartAsync(o => o.RecordTypes = DiscoveryRecordTypes.Aaaa);
        h.Server.SetAddresses("name", Ttl, IPAddress.Parse("fd00::1"), IPAddress.Parse("fd00::2"));

        var source = await h.Resolver.GetEndpointsAsync("http://name.internal:3000", TestContext.Current.CancellationToken);

        source.Endpoints.Select(e => e.ToString()).Should().Equal("[fd00::1]:3000", "[fd00::2]:3000");
    }

    [Theory]
    [InlineData("http://api.example.test:8080")]
    [InlineData("http://127.0.0.9:8080")]
    [InlineData("http://localhost:8080")]
    [InlineData("http://[::1]:8080")]
    public async Task Names_outside_HostSuffixes_ip_literals_and_localhost_are_left_to_the_pass_through_provider(string query)
    {
        await using var h = await StartAsync();

        h.Factory.TryCreateProvider(ServiceEndpointQuery.TryParse(query, out var parsed) ? parsed : throw new ArgumentException(query), out var provider).Should().BeFalse();
        provider.Should().BeNull();
        var source = await h.Resolver.GetEndpointsAsync(query, TestContext.Current.CancellationToken);

        source.Endpoints.Should().ContainSingle().Which.Features.Get<IServiceEndpointProvider>()!.ToString().Should().Be("Pass-through");
        source.Endpoints[0].EndPoint.Should().Match<EndPoint>(e => e is DnsEndPoint || e is IPEndPoint);
        h.Server.QueryCount.Should().Be(0, "nothing was asked of DNS for a name this provider does not claim");
    }

    [Fact]
    public async Task Endpoints_in_configuration_win_over_dns_and_cost_no_query()
    {
        await using var h = await StartAsync(configuration: new Dictionary<string, string?>
        {
            ["Services:name.internal:http:0"] = "10.9.9.9:1234",
        });
        h.SetAddresses(Ttl, 2);

        var source = await h.Resolver.GetEndpointsAsync("http://name.internal:3000", TestContext.Current.CancellationToken);

        source.Endpoints.Should().ContainSingle().Which.EndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1234));
        h.AQueries.Should().Be(0);
    }

    [Fact]
    public async Task Options_come_from_the_CloudMapDiscovery_section()
    {
        await using var h = await StartAsync(configuration: new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:MinTtl"] = "00:00:07",
            ["CloudMapDiscovery:HostSuffixes:0"] = "elsewhere",
        });
        h.SetAddresses(TimeSpan.Zero, 2);

        await h.Resolver.GetEndpointsAsync("http://name.internal:3000", TestContext.Current.CancellationToken);

        var cache = h.Registry.Caches.Single();
        cache.Settings.Cache.MinTtl.Should().Be(TimeSpan.FromSeconds(7));
        ServiceEndpointQuery.TryParse("http://svc.elsewhere:80", out var other).Should().BeTrue();
        h.Factory.TryCreateProvider(other!, out _).Should().BeTrue("the section's suffix is added to the delegate's");
    }

    [Fact]
    public async Task The_configure_delegate_is_applied_after_the_CloudMapDiscovery_section()
    {
        await using var h = await StartAsync(o => o.MinTtl = TimeSpan.FromSeconds(9), new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:MinTtl"] = "00:00:07",
        });
        h.SetAddresses(TimeSpan.Zero, 2);

        await h.Resolver.GetEndpointsAsync("http://name.internal:3000", TestContext.Current.CancellationToken);

        h.Registry.Caches.Single().Settings.Cache.MinTtl.Should().Be(TimeSpan.FromSeconds(9), "code changes what configuration says, as for AddCloudMapDiscovery(o => ...)");
    }

    [Fact]
    public async Task Invalid_options_fail_at_startup_and_on_resolution_naming_the_option()
    {
        await using var h = await StartAsync(o => o.MinTtl = TimeSpan.Zero);

        var start = () => h.Services.GetRequiredService<IStartupValidator>().Validate();
        start.Should().Throw<OptionsValidationException>().WithMessage("*MinTtl must be more than zero*");
        var resolve = () => h.Resolver.GetEndpointsAsync("http://name.internal:3000", default).AsTask();
        (await resolve.Should().ThrowAsync<OptionsValidationException>()).WithMessage("*MinTtl*");
    }

    [Fact]
    public async Task No_instances_throws_naming_the_host_and_a_scale_from_zero_is_seen_after_NegativeTtlCap()
    {
        await using var h = await StartAsync();

        var first = () => h.Resolver.GetEndpointsAsync("http://name.internal:3000", default).AsTask();
        var error = (await first.Should().ThrowAsync<ServiceDiscoveryException>()).Which;
        error.NoInstances.Should().BeTrue();
        error.Host.Should().Be(Host);
        error.Message.Should().Contain("name.internal").And.Contain("NXDOMAIN");

        h.SetAddresses(Ttl, 2);
        await h.AdvanceAsync(TimeSpan.FromSeconds(6)); // NegativeTtlCap is 5 s; the sweeper asks again

        var source = await h.Resolver.GetEndpointsAsync("http://name.internal:3000", TestContext.Current.CancellationToken);
        source.Endpoints.Select(e => e.EndPoint).Should().Equal(new IPEndPoint(Ip(2), 3000));
    }

    [Fact]
    public async Task A_dns_failure_with_no_earlier_answer_throws_naming_the_host()
    {
        await using var h = await StartAsync();
        await h.Server.StopAsync();

        var resolve = () => h.Resolver.GetEndpointsAsync("http://name.internal:3000", default).AsTask();

        var error = (await resolve.Should().ThrowAsync<ServiceDiscoveryException>()).Which;
        error.NoInstances.Should().BeFalse();
        error.Message.Should().StartWith("Cannot discover name.internal");
    }

    [Fact]
    public async Task An_earlier_provider_that_gave_endpoints_is_left_alone()
    {
        await using var h = await StartAsync();
        h.SetAddresses(Ttl, 2);
        ServiceEndpointQuery.TryParse("http://name.internal:3000", out var query).Should().BeTrue();
        h.Factory.TryCreateProvider(query!, out var provider).Should().BeTrue();
        var builder = new TestEndpointBuilder();
        builder.Endpoints.Add(ServiceEndpoint.Create(new IPEndPoint(IPAddress.Parse("10.1.1.1"), 1)));

        await provider!.PopulateAsync(builder, TestContext.Current.CancellationToken);

        builder.Endpoints.Should().ContainSingle();
        builder.ChangeTokens.Should().BeEmpty();
        h.AQueries.Should().Be(0);
        await provider.DisposeAsync();
    }
}
