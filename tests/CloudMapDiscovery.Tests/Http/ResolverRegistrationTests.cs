using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Tests.Http;

/// <summary>Code that resolves names itself gets the library's resolver from DI, configured from the same options.</summary>
public sealed class ResolverRegistrationTests
{
    [Fact]
    public async Task A_DnsResolver_from_DI_uses_the_CloudMapDiscovery_options_from_configuration()
    {
        await using var dns = await DnsTestServer.StartAsync("internal", cancellationToken: TestContext.Current.CancellationToken);
        dns.SetAddresses("orders", TimeSpan.FromSeconds(30), IPAddress.Parse("127.0.0.7"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:NameServers:0"] = dns.EndPoint.ToString(),
            ["CloudMapDiscovery:DnsTimeout"] = "00:00:01.5",
            ["CloudMapDiscovery:DnsAttempts"] = "1",
        }).Build();
        await using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddCloudMapDiscovery()
            .BuildServiceProvider();

        var resolver = services.GetRequiredService<DnsResolver>();

        resolver.NameServers.Should().Equal(dns.EndPoint);
        resolver.Timeout.Should().Be(TimeSpan.FromSeconds(1.5));
        resolver.Attempts.Should().Be(1);
        var answer = await resolver.QueryAsync("orders.internal", DnsRecordType.A, TestContext.Current.CancellationToken);
        answer.Addresses.Select(a => a.Address).Should().Equal(IPAddress.Parse("127.0.0.7"));
        answer.Ttl.Should().Be(TimeSpan.FromSeconds(30), "the resolver gives TTLs, which System.Net.Dns does not");
        services.GetRequiredService<DnsResolver>().Should().BeSameAs(resolver);
    }
}
