using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Amazon.Runtime;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>HttpClient with <c>UseCloudMapApi()</c> against the in-process Cloud Map: requests, diagnostics, spans, logs and errors.</summary>
public sealed class ApiSourceEndToEndTests : IAsyncDisposable
{
    private readonly CloudMapApiTestServer _server = CloudMapApiTestServer.Start();
    private readonly ConcurrentQueue<HttpRequestMessage> _sent = new();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private ServiceProvider? _provider;

    public async ValueTask DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Api_source_sends_requests_to_every_instance_beyond_dns_eight()
    {
        for (var i = 2; i < 14; i++)
        {
            _server.RegisterInstance("internal", "api", $"task-{i}", ApiFixture.Ecs($"127.0.0.{i}", 9000 + i));
        }

        var client = Client();
        for (var i = 0; i < 24; i++)
        {
            using var response = await client.GetAsync(new Uri("http://api.internal:8080/x"), TestContext.Current.CancellationToken);
        }

        _sent.Select(r => r.RequestUri!.Authority).Distinct().Should().HaveCount(12);
        _sent.Should().OnlyContain(r => r.RequestUri!.Port == 9000 + int.Parse(r.RequestUri.Host.Split('.')[3], System.Globalization.CultureInfo.InvariantCulture));
        _sent.Should().OnlyContain(r => r.Headers.Host == "api.internal:8080");
    }

    [Fact]
    public async Task Api_source_serves_twelve_tasks_without_the_unhealthy_one_and_fails_no_request_while_throttled()
    {
        for (var i = 2; i < 14; i++)
        {
            _server.RegisterInstance("internal", "api", $"task-{i}", ApiFixture.Ecs($"127.0.0.{i}", 80), i == 5 ? CloudMapHealthStatus.Unhealthy : CloudMapHealthStatus.Healthy);
        }

        var client = Client();
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 22; i++)
        {
            using var response = await client.GetAsync(new Uri("http://api.internal/"), ct);
        }

        _sent.Select(r => r.RequestUri!.Host).Distinct().Should().HaveCount(11).And.NotContain("127.0.0.5");

        // Five minutes of throttling on a fake clock, a request every 5 s: each is served from the last good answer.
        _server.InjectFault(new CloudMapApiFault(CloudMapApiFaultKind.RequestLimitExceeded));
        var before = _server.GetCallCount("DiscoverInstancesRevision") + _server.GetCallCount("DiscoverInstances");
        var failed = 0;
        for (var i = 0; i < 60; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(5));
            try
            {
                using var response = await client.GetAsync(new Uri("http://api.internal/"), ct);
            }
            catch (HttpRequestException)
            {
                failed++;
            }
        }

        failed.Should().Be(0);
        (_server.GetCallCount("DiscoverInstancesRevision") + _server.GetCallCount("DiscoverInstances") - before).Should().BeLessThan(30, "throttled calls back off beyond one per MinTtl");
    }

    [Fact]
    public async Task Api_source_puts_instance_ids_and_attributes_in_the_diagnostics_snapshot()
    {
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 80, "eu-west-1c"));
        var client = Client();

        using var response = await client.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);

        var snapshot = _provider!.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot();
        var endpoint = snapshot.Single(s => s.Host == "api.internal").Endpoints.Single();
        endpoint.InstanceId.Should().Be("task-2");
        endpoint.Attributes!["AVAILABILITY_ZONE"].Should().Be("eu-west-1c");
        endpoint.Port.Should().Be(80);
    }

    [Fact]
    public async Task Api_source_tags_each_attempt_span_with_the_instance_id()
    {
        _server.RegisterInstance("internal", "spans", "task-7", ApiFixture.Ecs("127.0.0.7", 80));
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        var client = Client();

        using var response = await client.GetAsync(new Uri("http://spans.internal/"), TestContext.Current.CancellationToken);

        spans.Where(a => Equals(a.GetTagItem("server.address"), "spans.internal"))
            .Select(a => a.GetTagItem("cloudmap.instance.id")).Should().Equal("task-7");
    }

    [Fact]
    public async Task Api_source_keeps_credentials_tokens_and_signatures_out_of_logs_errors_spans_and_snapshot()
    {
        await using var refusing = CloudMapApiTestServer.Start(new CloudMapApiTestServerOptions { AccessKeyIds = { "AKIDSOMEONEELSE" } });
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 80));
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(spans);
        var good = Client(refusedUrl: refusing.ServiceUrl);
        var refused = Client(name: "refused");

        using var ok = await good.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);
        var act = () => refused.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);
        var error = await DiscoveryFailure(act);

        var texts = new List<string> { error.ToString() };
        texts.AddRange(_provider!.GetFakeLogCollector().GetSnapshot().Select(r => $"{r.Message} {r.Exception}"));
        texts.AddRange(spans.SelectMany(a => a.Tags.Select(t => $"{t.Key}={t.Value}").Append(a.StatusDescription ?? string.Empty)));
        texts.AddRange(_provider!.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().SelectMany(s => s.Endpoints.Select(e => $"{s} {e} {string.Join(",", e.Attributes ?? new Dictionary<string, string>())}")));
        texts.Should().NotBeEmpty();
        texts.Should().NotContain(t => t.Contains(ApiFixture.SecretKey, StringComparison.Ordinal)
            || t.Contains(ApiFixture.SessionToken, StringComparison.Ordinal)
            || t.Contains("Signature=", StringComparison.Ordinal));
        error.ToString().Should().Contain("UnrecognizedClientException");
    }

    [Fact]
    public async Task Api_source_refused_signature_fails_at_the_first_request_naming_the_code_without_falling_back_to_dns()
    {
        await using var refusing = CloudMapApiTestServer.Start(new CloudMapApiTestServerOptions { AccessKeyIds = { "AKIDSOMEONEELSE" } });
        var client = Client(o => o.ServiceUrl = refusing.ServiceUrl.ToString());

        var act = () => client.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);

        var error = await DiscoveryFailure(act);
        error.Message.Should().Contain("api.internal").And.Contain("UnrecognizedClientException").And.Contain("DiscoverInstances");
        error.InnerException.Should().BeOfType<CloudMapApiException>().Which.IsAuthorization.Should().BeTrue();
        _sent.Should().BeEmpty();
    }

    [Fact]
    public async Task Api_source_failure_counts_as_a_discovery_error_and_not_found_as_no_instances()
    {
        await using var refusing = CloudMapApiTestServer.Start(new CloudMapApiTestServerOptions { AccessKeyIds = { "AKIDSOMEONEELSE" } });
        var good = Client(refusedUrl: refusing.ServiceUrl);
        using var requests = new MetricCollector<long>(_provider!.GetService<IMeterFactory>(), "CloudMapDiscovery", "cloudmap.requests");
        var refused = Client(name: "refused");

        await DiscoveryFailure(() => refused.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken));
        await DiscoveryFailure(() => good.GetAsync(new Uri("http://missing.internal/"), TestContext.Current.CancellationToken));

        requests.GetMeasurementSnapshot().Select(m => (m.Tags["server.address"], m.Tags["cloudmap.request.outcome"]))
            .Should().BeEquivalentTo(new (object?, object?)[] { ("api.internal", "discovery_error"), ("missing.internal", "no_instances") });
    }

    [Fact]
    public async Task Api_source_without_credentials_fails_naming_what_was_tried()
    {
        var client = Client(credentials: new NoCredentials());

        var act = () => client.GetAsync(new Uri("http://api.internal/"), TestContext.Current.CancellationToken);

        var error = await DiscoveryFailure(act);
        error.Message.Should().Contain("no AWS credentials").And.Contain("ECS container credentials");
        _server.GetCallCount("DiscoverInstances").Should().Be(0);
    }

    [Fact]
    public async Task Api_source_unknown_service_is_a_negative_answer_naming_the_aws_code()
    {
        _server.RegisterInstance("internal", "api", "task-2", ApiFixture.Ecs("127.0.0.2", 80));
        var client = Client();

        var act = () => client.GetAsync(new Uri("http://missing.internal/"), TestContext.Current.CancellationToken);

        (await DiscoveryFailure(act)).Message.Should().Contain("ServiceNotFound");
    }

    [Fact]
    public void Api_source_selected_in_configuration_without_the_package_fails_naming_the_option()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["CloudMapDiscovery:Source"] = "Api" }).Build());
        services.AddHttpClient("x").AddCloudMapDiscovery();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("x");

        act.Should().Throw<InvalidOperationException>().WithMessage("*CloudMapDiscovery:Source*Api*AddCloudMapApi*");
    }

    [Fact]
    public void Api_source_options_from_configuration_are_validated_with_messages_naming_the_option()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudMapDiscovery:Source"] = "Api",
            ["CloudMapDiscovery:Api:Region"] = "eu-west-1",
            ["CloudMapDiscovery:Api:HealthStatus"] = "SOMETIMES",
            ["CloudMapDiscovery:Clients:x:Api:ServiceUrl"] = "not a url",
        }).Build());
        services.AddHttpClient("x").AddCloudMapDiscovery();
        services.AddCloudMapApi();
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IHttpClientFactory>().CreateClient("x");

        var error = act.Should().Throw<OptionsValidationException>().Which;
        error.Message.Should().Contain("CloudMapDiscovery:Api:HealthStatus").And.Contain("CloudMapDiscovery:Api:ServiceUrl").And.Contain("'x'");
    }

    [Fact]
    public void Api_source_is_shared_by_clients_with_the_same_settings()
    {
        var services = new ServiceCollection();
        services.AddCloudMapApi(o => o.Region = "eu-west-1");
        services.Configure<CloudMapApiOptions>("other", o => o.HealthStatus = "ALL");
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<ICloudMapEndpointSourceFactory>();

        factory.Create("a").Should().BeSameAs(factory.Create("b"));
        factory.Create("other").Should().NotBeSameAs(factory.Create("a"));
    }

    // Every client's ServiceUrl is a loopback fake: nothing reaches a real AWS endpoint.
    private HttpClient Client(Action<CloudMapApiOptions>? configure = null, AWSCredentials? credentials = null, string name = "api", Uri? refusedUrl = null)
    {
        if (_provider is null)
        {
            var services = new ServiceCollection();
            services.AddSingleton<TimeProvider>(_clock);
            services.AddSingleton(credentials ?? ApiFixture.Credentials);
            services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
            services.AddHttpClient("api").AddCloudMapDiscovery().UseCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = _server.ServiceUrl.ToString(); configure?.Invoke(o); })
                .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(_sent));
            services.AddHttpClient("refused").AddCloudMapDiscovery().UseCloudMapApi(o => { o.Region = "eu-west-1"; o.ServiceUrl = (refusedUrl ?? _server.ServiceUrl).ToString(); })
                .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(_sent));
            _provider = services.BuildServiceProvider();
        }

        return _provider.GetRequiredService<IHttpClientFactory>().CreateClient(name);
    }

    // The handler hands a discovery failure to the caller as HttpRequestException (NameResolutionError) around it.
    private static async Task<ServiceDiscoveryException> DiscoveryFailure(Func<Task> act)
    {
        var outer = (await act.Should().ThrowAsync<HttpRequestException>()).Which;
        outer.HttpRequestError.Should().Be(HttpRequestError.NameResolutionError);
        return outer.InnerException.Should().BeAssignableTo<ServiceDiscoveryException>().Subject;
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "CloudMapDiscovery",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private sealed class NoCredentials : AWSCredentials
    {
        public override ImmutableCredentials GetCredentials() => throw new InvalidOperationException("Unable to find credentials in any source (test).");
    }
}
