// README:begin
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Testing;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace MyCompany.Orders.Tests;

public sealed class OrdersDiscoveryTests
{
    [Fact]
    public async Task Calls_spread_over_the_registered_tasks_and_survive_a_DNS_outage()
    {
        // xunit.v3 cancels this token when the run is stopped or times out: a stuck call does not hold the run.
        var cancel = TestContext.Current.CancellationToken;

        // Cloud Map, in process: the namespace "internal" on a loopback port.
        await using var cloudMap = await DnsTestServer.StartAsync("internal", cancellationToken: cancel);

        // Two "tasks" of the orders service, on their own loopback addresses, sharing one port as on ECS.
        var port = FreePort();
        await using var task2 = await StartTaskAsync("127.0.0.2", port);
        await using var task3 = await StartTaskAsync("127.0.0.3", port);
        cloudMap.SetAddresses("orders", TimeSpan.FromSeconds(10), IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"));

        // The client under test, as production builds it, with the fake DNS and a clock the test moves.
        var clock = new FakeTimeProvider();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock);
        services.AddHttpClient("orders", c => c.BaseAddress = new Uri($"http://orders.internal:{port}/"))
            .AddCloudMapDiscovery(o => o.NameServers.Add(cloudMap.EndPoint.ToString()));
        await using var provider = services.BuildServiceProvider();
        var orders = provider.GetRequiredService<IHttpClientFactory>().CreateClient("orders");

        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await orders.GetStringAsync("/", cancel));
        }

        answers.Order().Should().Equal("127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3");

        // DNS goes down and the answer's TTL runs out: the last good answer is still served (stale).
        cloudMap.InjectFault(DnsFault.ServFail());
        clock.Advance(TimeSpan.FromSeconds(30));
        (await orders.GetStringAsync("/", cancel)).Should().BeOneOf("127.0.0.2", "127.0.0.3");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<WebApplication> StartTaskAsync(string address, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{address}:{port}");
        var app = builder.Build();
        app.MapGet("/", () => address);
        await app.StartAsync();
        return app;
    }
}
// README:end
