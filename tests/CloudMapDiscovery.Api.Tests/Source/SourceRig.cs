using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Api.Source;
using CloudMapDiscovery.Testing;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>An <see cref="ApiEndpointSource"/> against a fresh in-process Cloud Map, on a fake clock, with a collecting logger.</summary>
internal sealed class SourceRig : IAsyncDisposable
{
    private readonly HttpClient _http = new();
    private readonly Dictionary<string, IDisposable> _tracked = new(StringComparer.Ordinal);

    public SourceRig(Action<CloudMapApiOptions>? configure = null, CloudMapApiTestServerOptions? serverOptions = null)
    {
        Server = CloudMapApiTestServer.Start(serverOptions);
        var options = new CloudMapApiOptions { Region = "eu-west-1", ServiceUrl = Server.ServiceUrl.ToString() };
        configure?.Invoke(options);
        var settings = ApiSettings.From(options);
        Budget = new ApiCallBudget(Clock, options.MaxCallsPerSecond);
        var client = new CloudMapApiClient(_http, settings.Endpoint, settings.Region, new AwsKeySource(ApiFixture.Credentials), Clock);
        Source = new ApiEndpointSource(client, settings, Budget, Clock, Logger);
    }

    public CloudMapApiTestServer Server { get; }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    public FakeLogger Logger { get; } = new();

    public ApiCallBudget Budget { get; }

    public ApiEndpointSource Source { get; }

    public int Revisions => Server.GetCallCount(CloudMapApiClient.DiscoverInstancesRevision);

    public int Fulls => Server.GetCallCount(CloudMapApiClient.DiscoverInstances);

    public void Register(int count, string service = "api", CloudMapHealthStatus health = CloudMapHealthStatus.Healthy, int first = 2)
    {
        for (var i = 0; i < count; i++)
        {
            Server.RegisterInstance("internal", service, $"task-{first + i}", ApiFixture.Ecs($"127.0.0.{first + i}", 8080, i % 2 == 0 ? "eu-west-1a" : "eu-west-1b"), health);
        }
    }

    /// <summary>Asks for <paramref name="host"/> as a cache does: tracked from its first ask until the rig is disposed.</summary>
    public Task<CloudMapSourceAnswer> AskAsync(string host = "api.internal")
    {
        if (!_tracked.ContainsKey(host))
        {
            _tracked.Add(host, Source.Track(host));
        }

        return Source.ResolveAsync(host, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var tracked in _tracked.Values)
        {
            tracked.Dispose();
        }

        _http.Dispose();
        await Server.DisposeAsync();
    }
}
