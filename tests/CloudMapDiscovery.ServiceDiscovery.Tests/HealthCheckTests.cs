using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Integration.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using static CloudMapDiscovery.ServiceDiscovery.Tests.Infrastructure.ProviderHarness;

namespace CloudMapDiscovery.ServiceDiscovery.Tests;

/// <summary>
/// The provider's background checks: an address that fails its check (here a refused TCP connect) is left out of the
/// endpoints given until a check passes again, with a new change token each time; every address failing publishes them
/// all. Real listeners on 127.0.0.x, a manual clock for the check interval.
/// </summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task A_refusing_address_is_left_out_until_it_accepts_again_and_each_address_is_checked_once_per_5_s()
    {
        await using var h = await StartAsync(o => o.ProbeEjectedEndpoints = true);
        using var two = Listener.Open(2, 0);
        using var three = Listener.Open(3, two.Port);
        var four = Listener.Open(4, two.Port);
        four.Dispose(); // its port is known and now refuses
        h.SetAddresses(TimeSpan.FromSeconds(600), 2, 3, 4);
        var provider = Provider(h, two.Port);

        var (first, token) = await AfterFirstRoundAsync(provider, dns: 3);

        first.Should().Equal($"127.0.0.2:{two.Port}", $"127.0.0.3:{two.Port}");

        // It accepts again, but the next round is 5 s after the first: nothing is dialled before.
        using var back = Listener.Open(4, two.Port);
        h.Clock.Advance(TimeSpan.FromSeconds(4.9));
        (await PopulateAsync(Provider(h, two.Port))).Addresses.Should().Equal(first, "a second provider of the name shares its checks and their verdicts");
        token.HasChanged.Should().BeFalse("no check ran before its 5 s were up");

        h.Clock.Advance(TimeSpan.FromSeconds(0.1));
        await FiredAsync(token);
        (await PopulateAsync(provider)).Addresses.Should().HaveCount(3, "its check passed");
    }

    [Fact]
    public async Task When_every_address_fails_its_check_all_are_published_never_none()
    {
        await using var h = await StartAsync(o => o.ProbeEjectedEndpoints = true);
        var two = Listener.Open(2, 0);
        var port = two.Port;
        var three = Listener.Open(3, port);
        three.Dispose();
        h.SetAddresses(TimeSpan.FromSeconds(600), 2, 3);
        var provider = Provider(h, port);

        var (addresses, token) = await AfterFirstRoundAsync(provider, dns: 2);

        addresses.Should().Equal($"127.0.0.2:{port}");

        two.Dispose(); // now both refuse
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await FiredAsync(token);
        (await PopulateAsync(provider)).Addresses.Should().Equal($"127.0.0.2:{port}", $"127.0.0.3:{port}");
    }

    [Fact]
    public async Task With_a_HealthCheckPath_a_task_that_accepts_connections_but_answers_503_is_left_out()
    {
        var healthy = new[] { 200, 503, 200 };
        await using var tasks = await LoopbackTasks.StartAsync(3, HttpProtocols.Http1, null, (_, _) => { }, (app, index) =>
            app.MapGet("/health", (HttpContext context) => Results.StatusCode(Volatile.Read(ref healthy[index]))));
        await using var h = await StartAsync(o => (o.ProbeEjectedEndpoints, o.HealthCheckPath) = (true, "/health"));
        h.SetAddresses(TimeSpan.FromSeconds(600), 2, 3, 4); // tasks 0, 1, 2
        var provider = Provider(h, tasks.Port);

        var (addresses, token) = await AfterFirstRoundAsync(provider, dns: 3);

        addresses.Should().Equal($"127.0.0.2:{tasks.Port}", $"127.0.0.4:{tasks.Port}");

        Volatile.Write(ref healthy[1], 200);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        await FiredAsync(token);
        (await PopulateAsync(provider)).Addresses.Should().HaveCount(3, "its health path answers 2xx again");
    }

    private static IServiceEndpointProvider Provider(Infrastructure.ProviderHarness h, int port)
    {
        ServiceEndpointQuery.TryParse($"http://name.internal:{port}", out var query).Should().BeTrue();
        h.Factory.TryCreateProvider(query!, out var provider).Should().BeTrue();
        return provider!;
    }

    // What the provider gives once the name's first round of checks (run when it is first watched) has been applied.
    private static async Task<(string[] Addresses, IChangeToken Token)> AfterFirstRoundAsync(IServiceEndpointProvider provider, int dns)
    {
        var (addresses, token) = await PopulateAsync(provider);
        if (addresses.Length == dns)
        {
            await FiredAsync(token);
            (addresses, token) = await PopulateAsync(provider);
        }

        return (addresses, token);
    }

    private static async Task<(string[] Addresses, IChangeToken Token)> PopulateAsync(IServiceEndpointProvider provider)
    {
        var builder = new Infrastructure.TestEndpointBuilder();
        await provider.PopulateAsync(builder, TestContext.Current.CancellationToken);
        return ([.. builder.Endpoints.Select(e => e.EndPoint.ToString()!).Order(StringComparer.Ordinal)], builder.ChangeTokens.Single());
    }

    // Completes when the token fires; the checks run on the thread pool against real sockets.
    private static Task FiredAsync(IChangeToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.RegisterChangeCallback(_ => fired.TrySetResult(), null);
        return fired.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    /// <summary>A TCP listener on 127.0.0.n that accepts connections.</summary>
    private sealed class Listener : IDisposable
    {
        private readonly TcpListener _listener;

        private Listener(TcpListener listener)
        {
            _listener = listener;
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Listener Open(int n, int port)
        {
            var listener = new TcpListener(Ip(n), port);
            listener.Start();
            return new Listener(listener);
        }

        public void Dispose() => _listener.Stop();

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    using var socket = await _listener.AcceptSocketAsync();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // stopped
            }
        }
    }
}
