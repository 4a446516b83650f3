using CloudMapDiscovery.Tests.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Tests.Settings;

/// <summary>
/// A client's options are read once, when its first handler is built: a configuration reload, even one the options
/// monitor follows, changes nothing for that client, also in the handlers IHttpClientFactory builds after it.
/// </summary>
[Collection(HttpTestGroup.Name)]
public sealed class ReloadTests
{
    [Fact]
    public async Task A_reload_does_not_change_the_settings_of_a_client_whose_handler_was_built()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:Clients:name:MinTtl"] = "00:00:05",
        }).Build();
        await using var h = await DiscoveryHarness.StartAsync(2, services: (s, _) =>
        {
            s.AddSingleton<IConfiguration>(configuration);

            // What an application that wants reloads would register: the monitor then follows the configuration.
            s.AddSingleton<IOptionsChangeTokenSource<CloudMapDiscoveryOptions>>(new ConfigurationChangeTokenSource<CloudMapDiscoveryOptions>(DiscoveryHarness.Client, configuration));
        });
        var before = await SendThroughNewHandler(h);

        configuration["CloudMapDiscovery:Clients:name:MinTtl"] = "00:00:07";
        configuration.Reload();
        h.Services.GetRequiredService<IOptionsMonitor<CloudMapDiscoveryOptions>>().Get(DiscoveryHarness.Client).MinTtl
            .Should().Be(TimeSpan.FromSeconds(7), "the monitor followed the reload");
        var after = await SendThroughNewHandler(h);

        h.Fleet.Addresses.Select(a => a.ToString()).Should().Contain([before, after], "both handlers went through discovery");
        h.Registry.CacheCount.Should().Be(1, "the handler built after the reload kept the client's first settings, and so its cache");
        h.Dns.GetQueryCount("name").Should().Be(1);
    }

    // What IHttpClientFactory does when a handler expires: a fresh builder, every registered action, Build().
    private static async Task<string> SendThroughNewHandler(DiscoveryHarness h)
    {
        var options = h.Services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(DiscoveryHarness.Client);
        using var scope = h.Services.CreateScope();
        var builder = scope.ServiceProvider.GetRequiredService<HttpMessageHandlerBuilder>();
        builder.Name = DiscoveryHarness.Client;
        foreach (var action in options.HttpMessageHandlerBuilderActions)
        {
            action(builder);
        }

        using var handler = builder.Build();
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        using var request = new HttpRequestMessage(HttpMethod.Get, h.Url());
        using var response = await invoker.SendAsync(request, TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken); // the task answers with its address
    }
}
