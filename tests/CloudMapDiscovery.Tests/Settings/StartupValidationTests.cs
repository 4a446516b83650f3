using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Tests.Settings;

/// <summary>Bad options stop the host from starting, for every client whose options are configured by name, not only the unnamed ones.</summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task Under_discovery_for_all_clients_a_bad_client_section_stops_the_host_naming_the_option_and_the_client()
    {
        using var host = Build(
            new() { ["CloudMapDiscovery:Clients:orders:MaxAttempts"] = "0" },
            s =>
            {
                s.AddCloudMapDiscoveryToAllHttpClients();
                s.AddHttpClient("orders");
            });

        var messages = await StartFailures(host);

        messages.Should().ContainSingle().Which.Should().Contain("CloudMapDiscovery (client 'orders'): MaxAttempts must be from 1 to 10 (was 0).");
    }

    [Fact]
    public async Task Under_discovery_for_all_clients_bad_named_options_in_code_stop_the_host_naming_the_option_and_the_client()
    {
        using var host = Build([], s =>
        {
            s.AddCloudMapDiscoveryToAllHttpClients();
            s.AddHttpClient("billing");
            s.Configure<CloudMapDiscoveryOptions>("billing", o => o.DnsAttempts = 0);
            s.PostConfigure<CloudMapDiscoveryOptions>("ledger", o => o.NameServers.Add("5353"));
        });

        var messages = await StartFailures(host);

        messages.Should().HaveCount(2)
            .And.Contain(m => m.Contains("CloudMapDiscovery (client 'billing'): DnsAttempts must be from 1 to 10 (was 0).", StringComparison.Ordinal))
            .And.Contain(m => m.Contains("CloudMapDiscovery (client 'ledger'): NameServers: '5353'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_client_added_one_by_one_stops_the_host_and_good_ones_start()
    {
        using var bad = Build(new() { ["CloudMapDiscovery:Clients:orders:ConnectTimeout"] = "-00:00:01" }, s => s.AddHttpClient("orders").AddCloudMapDiscovery());
        (await StartFailures(bad)).Should().ContainSingle().Which.Should().Contain("(client 'orders'): ConnectTimeout");

        using var good = Build(new() { ["CloudMapDiscovery:Clients:orders:MaxAttempts"] = "2" }, s =>
        {
            s.AddCloudMapDiscoveryToAllHttpClients();
            s.AddHttpClient("orders");
        });
        await good.StartAsync(TestContext.Current.CancellationToken);
        await good.StopAsync(TestContext.Current.CancellationToken);
    }

    private static IHost Build(Dictionary<string, string?> configuration, Action<IServiceCollection> services)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<IConfiguration>(builder.Configuration);
        services(builder.Services);
        return builder.Build();
    }

    private static async Task<List<string>> StartFailures(IHost host)
    {
        var error = await Record.ExceptionAsync(() => host.StartAsync(TestContext.Current.CancellationToken));
        error.Should().NotBeNull("bad options must stop the host from starting");
        var failures = error is AggregateException all ? all.InnerExceptions : [error!];
        failures.Should().AllBeOfType<OptionsValidationException>();
        return [.. failures.SelectMany(f => ((OptionsValidationException)f).Failures)];
    }
}
