using System.Net;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Http;

namespace CloudMapDiscovery.Tests.Http;

public sealed class UriRewriteTests
{
    private static readonly EndpointUriCache V4 = Route("127.0.0.2", null);

    [Fact]
    public void The_rewrite_keeps_scheme_port_path_query_and_fragment()
    {
        var uri = V4.Rewrite(new Uri("https://name.internal:8443/a/b%20c?x=1&y=%2F#frag"));

        uri.AbsoluteUri.Should().Be("https://127.0.0.2:8443/a/b%20c?x=1&y=%2F#frag");
    }

    [Fact]
    public void A_repeated_path_reuses_the_same_uri_and_a_new_one_gets_its_own()
    {
        var first = V4.Rewrite(new Uri("http://name.internal:3000/ping"));
        var again = V4.Rewrite(new Uri("http://name.internal:3000/ping"));
        var otherQuery = V4.Rewrite(new Uri("http://name.internal:3000/ping?x=2"));
        var otherPort = V4.Rewrite(new Uri("http://name.internal:3001/ping?x=2"));
        var otherScheme = V4.Rewrite(new Uri("https://name.internal:3001/ping?x=2"));

        again.Should().BeSameAs(first);
        otherQuery.ToString().Should().Be("http://127.0.0.2:3000/ping?x=2");
        otherPort.ToString().Should().Be("http://127.0.0.2:3001/ping?x=2");
        otherScheme.ToString().Should().Be("https://127.0.0.2:3001/ping?x=2");
    }

    [Fact]
    public void Srv_ports_and_ipv6_addresses_are_written_correctly()
    {
        var srv = Route("fd00::5", 32768);

        srv.Rewrite(new Uri("http://name.internal/x")).ToString().Should().Be("http://[fd00::5]:32768/x");
    }

    [Fact]
    public void Concurrent_rewrites_of_different_paths_never_mix_them_up()
    {
        var endpoint = Route("127.0.0.3", null);
        var wrong = 0;
        Parallel.For(0, 20_000, i =>
        {
            var path = "/p" + (i % 7);
            if (endpoint.Rewrite(new Uri("http://name.internal:3000" + path)).AbsolutePath != path)
            {
                Interlocked.Increment(ref wrong);
            }
        });

        wrong.Should().Be(0);
    }

    private static EndpointUriCache Route(string ip, int? port) => EndpointUriCache.Of(new BalancedEndpoint(new EndpointAddress(IPAddress.Parse(ip), port)));
}
