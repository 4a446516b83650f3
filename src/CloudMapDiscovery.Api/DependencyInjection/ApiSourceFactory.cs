using System.Collections.Concurrent;
using Amazon.Runtime;
using CloudMapDiscovery.Api.Client;
using CloudMapDiscovery.Api.Source;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Api.DependencyInjection;

/// <summary>Makes each API client's source: one per distinct <see cref="ApiSettings"/>, all under one call budget and one credentials chain.</summary>
internal sealed class ApiSourceFactory : ICloudMapEndpointSourceFactory, IDisposable
{
    private const int MaxReplyBytes = 32 * 1024 * 1024; // 1,000 instances with 5,000 characters of attributes each, with room to spare

    private readonly ConcurrentDictionary<ApiSettings, Lazy<(ApiEndpointSource Source, HttpClient Http)>> _sources = new();
    private readonly IOptionsMonitor<CloudMapApiOptions> _options;
    private readonly AwsKeySource _keys;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Func<HttpMessageHandler> _handler;

    public ApiSourceFactory(IOptionsMonitor<CloudMapApiOptions> options, AWSCredentials? credentials, TimeProvider? clock, ILoggerFactory? loggers, Func<HttpMessageHandler>? handler = null)
    {
        _options = options;
        _keys = new AwsKeySource(credentials);
        _clock = clock ?? TimeProvider.System;
        _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("CloudMapDiscovery.Api");
        _handler = handler ?? (() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(5) });
        Budget = new ApiCallBudget(_clock, double.MaxValue / 4);
    }

    /// <summary>The process's call budget, shared by every source.</summary>
    public ApiCallBudget Budget { get; }

    public ICloudMapEndpointSource Create(string clientName)
    {
        var options = _options.Get(clientName); // validated (OptionsValidationException names the option)
        Budget.Limit(options.MaxCallsPerSecond);
        var settings = ApiSettings.From(options);
        return _sources.GetOrAdd(settings, s => new Lazy<(ApiEndpointSource, HttpClient)>(() => Build(s))).Value.Source;
    }

    public void Dispose()
    {
        foreach (var source in _sources.Values.Where(l => l.IsValueCreated))
        {
            source.Value.Http.Dispose();
        }
    }

    private (ApiEndpointSource, HttpClient) Build(ApiSettings settings)
    {
        var http = new HttpClient(_handler(), disposeHandler: true) { Timeout = settings.Timeout, MaxResponseContentBufferSize = MaxReplyBytes };
        var client = new CloudMapApiClient(http, settings.Endpoint, settings.Region, _keys, _clock);
        return (new ApiEndpointSource(client, settings, Budget, _clock, _logger), http);
    }
}
