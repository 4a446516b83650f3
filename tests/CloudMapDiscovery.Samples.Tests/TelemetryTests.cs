using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>
/// Hello exports OpenTelemetry over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: a collector on loopback
/// receives the spans of each attempt on a task address and of the DNS lookups, and the library's metrics.
/// </summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task With_an_OTLP_endpoint_hello_exports_attempt_spans_and_the_librarys_metrics()
    {
        await using var collector = await Collector.StartAsync();
        await using var lo = await Loopback.StartAsync(16);
        await lo.StartNameAsync(2);
        await lo.StartNameAsync(3);
        using var hello = await lo.StartHelloAsync(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });

        for (var i = 0; i < 4; i++)
        {
            (await hello.GetAsync(string.Empty, TestContext.Current.CancellationToken)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // OTLP is protobuf; span names, attribute keys and instrument names travel as plain UTF-8 strings in it.
        await collector.UntilAsync("/v1/traces", "cloudmap.attempt");
        await collector.UntilAsync("/v1/traces", "network.peer.address");
        await collector.UntilAsync("/v1/metrics", "cloudmap.requests");
        await collector.UntilAsync("/v1/metrics", "cloudmap.request.outcome");
    }

    /// <summary>An OTLP/HTTP receiver that keeps every body it is sent, by path.</summary>
    private sealed class Collector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _received;

        private Collector(WebApplication app, ConcurrentQueue<(string Path, byte[] Body)> received)
        {
            _app = app;
            _received = received;
        }

        public string Endpoint => _app.Urls.First();

        public static async Task<Collector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var received = new ConcurrentQueue<(string Path, byte[] Body)>();
            app.MapPost("/v1/{signal}", async (HttpContext context) =>
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                received.Enqueue((context.Request.Path.Value!, body.ToArray()));
                return Results.Ok();
            });
            await app.StartAsync();
            return new Collector(app, received);
        }

        /// <summary>Waits (polling what the exporter sends from its own thread) until a body sent to <paramref name="path"/> contains <paramref name="text"/>.</summary>
        public async Task UntilAsync(string path, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!_received.Any(r => r.Path == path && r.Body.AsSpan().IndexOf(bytes) >= 0))
            {
                if (timeout.IsCancellationRequested)
                {
                    throw new TimeoutException($"No {path} body with '{text}'; received {_received.Count} bodies");
                }

                await Task.Delay(20, TestContext.Current.CancellationToken);
            }
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
