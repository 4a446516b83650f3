using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace CloudMapDiscovery.Http;

/// <summary>
/// Sends each request to one task address of its host: picks an endpoint round robin, rewrites the URI to that
/// address while keeping the original host in the Host header (and so in TLS SNI and certificate checks), and on
/// a transport failure reports it for ejection and retries on an address this request has not tried yet.
/// </summary>
internal sealed class CloudMapDiscoveryHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<RequestState> StateKey = new("CloudMapDiscovery.State");

    private readonly EndpointCache _cache;
    private readonly CloudMapDiscoveryOptions _options;
    private readonly HostMatcher _hosts;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<HttpResponseMessage>? _retries;
    private HostRoute? _lastRoute;

    public CloudMapDiscoveryHandler(EndpointCache cache, CloudMapDiscoveryOptions options, ILogger logger)
    {
        _cache = cache;
        _options = options;
        _hosts = new HostMatcher(options);
        _logger = logger;

        // The first attempt runs outside the pipeline, so the common case pays nothing for it; the pipeline owns
        // every attempt after a failure. Retries go to another address at once: waiting would only add latency.
        if (options.MaxAttempts > 1)
        {
            _retries = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = cache.Clock }
                .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = Math.Max(1, options.MaxAttempts - 2),
                    Delay = TimeSpan.Zero,
                    BackoffType = DelayBackoffType.Constant,
                    UseJitter = false,
                    // Only failed attempts are retried: a response (of any status) is the answer.
                    ShouldHandle = static args => ValueTask.FromResult(
                        args.Outcome.Exception is not null
                        && args.Context.Properties.TryGetValue(StateKey, out var state) && state.ShouldRetry(args.Context.CancellationToken)),
                })
                .Build();
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri;
        // No per-request opt-out switch on purpose: reading request.Options allocates its dictionary on every
        // request. IP literals, localhost and hosts outside HostSuffixes already pass through untouched.
        if (uri is null || !uri.IsAbsoluteUri)
        {
            return base.SendAsync(request, cancellationToken);
        }

        // Most clients call one service: a request to the same host as this handler's last one skips the host rules
        // and the cache's hash lookup. The route pairs the host as written (short name, trailing dot and all) with
        // what this handler's own rules made of it, so it can never send a host where Match would not.
        var idnHost = uri.IdnHost;
        ServiceEntry entry;
        var last = Volatile.Read(ref _lastRoute);
        if (last is not null && !last.Entry.IsRetired && string.Equals(idnHost, last.Host, StringComparison.Ordinal))
        {
            entry = last.Entry;
        }
        else
        {
            var host = _hosts.Match(uri);
            if (host is null)
            {
                return base.SendAsync(request, cancellationToken);
            }

            entry = _cache.GetEntry(host, _options.RecordTypes);
            Volatile.Write(ref _lastRoute, new HostRoute(idnHost, entry)); // allocates only when the host changes
        }

        var pending = entry.GetAsync(cancellationToken);

        // A warm name answers synchronously: no state machine for the lookup on the common path.
        return pending.IsCompletedSuccessfully
            ? SendToServiceAsync(request, uri, idnHost, entry, pending.Result, cancellationToken)
            : WaitThenSendAsync(request, uri, idnHost, entry, pending, cancellationToken);
    }

    private async Task<HttpResponseMessage> WaitThenSendAsync(HttpRequestMessage request, Uri uri, string idnHost, ServiceEntry entry, ValueTask<EndpointSet> pending, CancellationToken cancellationToken)
    {
        EndpointSet set;
        try
        {
            set = await pending.ConfigureAwait(false);
        }
        catch (ServiceDiscoveryException ex)
        {
            _cache.Metrics.Request(entry.Key.Host, "dns_error");
            throw new HttpRequestException(HttpRequestError.NameResolutionError, ex.Message, ex);
        }

        return await SendToServiceAsync(request, uri, idnHost, entry, set, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first attempt. Not an async method: when the inner handlers answer synchronously (a cached response,
    /// a short-circuiting handler) the request costs no state machine and no extra <see cref="Task"/>; only a send
    /// still running, or one that failed, goes on in <see cref="CompleteAsync"/>.
    /// </summary>
    private Task<HttpResponseMessage> SendToServiceAsync(HttpRequestMessage request, Uri uri, string idnHost, ServiceEntry entry, EndpointSet set, CancellationToken cancellationToken)
    {
        if (set.Endpoints.Length == 0)
        {
            var host = entry.Key.Host;
            _cache.Metrics.Request(host, "no_instances");
            var noInstances = new ServiceDiscoveryException(host, $"No instances are registered for {host} ({set.NegativeReason}).") { NoInstances = true };
            return Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.NameResolutionError, noInstances.Message, noInstances));
        }

        // Everything that could throw before the send happens before the request is touched.
        var endpoint = entry.Pick(set, null)!;
        var target = endpoint.Rewrite(uri); // no UriBuilder; reused while the path repeats
        var headers = request.Headers;

        // The caller's Host header wins; otherwise the original authority keeps virtual hosting, SNI and the
        // certificate check working against the name, not the address.
        var addedHost = headers.Host is null;
        if (addedHost)
        {
            headers.TryAddWithoutValidation("Host", entry.HostHeaderFor(uri, idnHost));
        }

        request.RequestUri = target;
        Task<HttpResponseMessage> sent;
        try
        {
            CloudMapMetrics.TagActivity(endpoint, 1);
            sent = base.SendAsync(request, cancellationToken);
        }
#pragma warning disable CA1031 // a handler that throws instead of returning a faulted task is handled as if it had returned one
        catch (Exception ex)
#pragma warning restore CA1031
        {
            sent = Task.FromException<HttpResponseMessage>(ex);
        }

        if (!sent.IsCompletedSuccessfully)
        {
            return CompleteAsync(sent, request, uri, entry, set, endpoint, target, addedHost, cancellationToken);
        }

        try
        {
            OnResponse(entry, endpoint, sent.Result);
            _cache.Metrics.Request(entry.Key.Host, "success");
        }
        finally
        {
            Restore(request, uri, target, addedHost);
        }

        return sent;
    }

    private async Task<HttpResponseMessage> CompleteAsync(
        Task<HttpResponseMessage> sent, HttpRequestMessage request, Uri uri, ServiceEntry entry, EndpointSet set, ServiceEndpoint endpoint, Uri target, bool addedHost, CancellationToken cancellationToken)
    {
        RequestState? state = null;
        try
        {
            Outcome<HttpResponseMessage> outcome;
            try
            {
                var response = await sent.ConfigureAwait(false);
                OnResponse(entry, endpoint, response);
                _cache.Metrics.Request(entry.Key.Host, "success");
                return response;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Only now does the request need to remember anything across attempts.
                state = new RequestState(this, request, uri, entry, set, cancellationToken);
                state.Begin(endpoint, target);
                outcome = OnAttemptFailed(state, endpoint, ex);
            }

            if (_retries is not null && state.ShouldRetry(cancellationToken))
            {
                var context = ResilienceContextPool.Shared.Get(cancellationToken);
                try
                {
                    context.Properties.Set(StateKey, state);
                    outcome = await _retries.ExecuteOutcomeAsync(static (_, s) => s.Handler.RetryAsync(s), context, state).ConfigureAwait(false);
                }
                finally
                {
                    ResilienceContextPool.Shared.Return(context);
                }
            }

            if (outcome.Exception is null)
            {
                _cache.Metrics.Request(entry.Key.Host, "success_after_retry");
                return outcome.Result!;
            }

            var failure = state.Failed(outcome.Exception);
            if (ReferenceEquals(failure, outcome.Exception))
            {
                // Cancellation and unexpected errors go out as they came, with their original stack trace.
                ExceptionDispatchInfo.Throw(failure);
            }

            throw failure;
        }
        finally
        {
            Restore(request, uri, state?.SentUri ?? target, addedHost);
        }
    }

    /// <summary>Puts the request back as the caller made it, once it is answered or has failed for good.</summary>
    private static void Restore(HttpRequestMessage request, Uri original, Uri sent, bool addedHost)
    {
        // Callers and logs should see the URI they asked for, unless a redirect moved the request on.
        if (ReferenceEquals(request.RequestUri, sent))
        {
            request.RequestUri = original;
        }

        // An outer handler (hedging, say) may send this request again elsewhere; it must not carry our Host.
        if (addedHost)
        {
            request.Headers.Host = null;
        }
    }

    /// <summary>A response is the answer whatever its status; a gateway error may still count against the endpoint.</summary>
    private void OnResponse(ServiceEntry entry, ServiceEndpoint endpoint, HttpResponseMessage response)
    {
        if (_cache.Ejection.EjectOnGatewayErrors && (int)response.StatusCode is 502 or 503 or 504)
        {
            _cache.ReportFailure(entry, endpoint, connectFailure: false);
        }
        else
        {
            EndpointCache.ReportSuccess(endpoint);
        }
    }

    private async Task<HttpResponseMessage> SendToAsync(HttpRequestMessage request, ServiceEntry entry, ServiceEndpoint endpoint, int attempt, CancellationToken cancellationToken)
    {
        CloudMapMetrics.TagActivity(endpoint, attempt);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        OnResponse(entry, endpoint, response);
        return response;
    }

    private async ValueTask<Outcome<HttpResponseMessage>> RetryAsync(RequestState state)
    {
        var endpoint = state.Entry.Pick(state.Set, state.Tried);
        if (endpoint is null)
        {
            return Outcome.FromException<HttpResponseMessage>(new InvalidOperationException("every endpoint was tried"));
        }

        _cache.Metrics.Retry(state.Entry.Key.Host);
        var target = endpoint.Rewrite(state.OriginalUri);
        state.Begin(endpoint, target);
        state.Request.RequestUri = target;
        try
        {
            return Outcome.FromResult(await SendToAsync(state.Request, state.Entry, endpoint, state.Attempts, state.CallerToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return OnAttemptFailed(state, endpoint, ex);
        }
#pragma warning disable CA1031 // recorded as what it is, so that it is neither retried nor mistaken for a network failure
        catch (Exception ex)
#pragma warning restore CA1031
        {
            state.Record(endpoint, FailureKind.Other, ex);
            return Outcome.FromException<HttpResponseMessage>(ex);
        }
    }

    private Outcome<HttpResponseMessage> OnAttemptFailed(RequestState state, ServiceEndpoint endpoint, Exception ex)
    {
        var kind = FailureClassifier.Classify(ex, state.CallerToken);
        state.Record(endpoint, kind, ex);
        if (kind is FailureKind.Connect or FailureKind.AfterSend)
        {
            _cache.ReportFailure(state.Entry, endpoint, kind == FailureKind.Connect);
            if (state.ShouldRetry(state.CallerToken))
            {
                Log.RetryingElsewhere(_logger, state.Entry.Key.Host, endpoint.ToString(), state.Attempts, FailureClassifier.Describe(ex));
            }
        }

        return Outcome.FromException<HttpResponseMessage>(ex);
    }

    /// <summary>A host as a request wrote it, and the entry this handler's rules resolved it to.</summary>
    private sealed record HostRoute(string Host, ServiceEntry Entry);

    /// <summary>Everything one request carries across its attempts.</summary>
    private sealed class RequestState
    {
        private readonly int _maxAttempts;
        private List<ServiceEndpoint>? _tried;
        private ServiceEndpoint? _first;
        private List<string>? _failures;
        private FailureKind _lastKind;

        public RequestState(CloudMapDiscoveryHandler handler, HttpRequestMessage request, Uri originalUri, ServiceEntry entry, EndpointSet set, CancellationToken callerToken)
        {
            Handler = handler;
            Request = request;
            OriginalUri = originalUri;
            Entry = entry;
            Set = set;
            CallerToken = callerToken;
            _maxAttempts = Math.Min(handler._options.MaxAttempts, set.Endpoints.Length);
        }

        public CloudMapDiscoveryHandler Handler { get; }

        public HttpRequestMessage Request { get; }

        public Uri OriginalUri { get; }

        public ServiceEntry Entry { get; }

        public EndpointSet Set { get; }

        public CancellationToken CallerToken { get; }

        public Uri? SentUri { get; private set; }

        public int Attempts { get; private set; }

        /// <summary>The endpoints this request already used; <see langword="null"/> before a failure, to keep the first pick free.</summary>
        public IReadOnlyCollection<ServiceEndpoint>? Tried => _tried;

        public void Begin(ServiceEndpoint endpoint, Uri sent)
        {
            SentUri = sent;
            Attempts++;
            if (_first is null)
            {
                _first = endpoint;
            }
            else
            {
                (_tried ??= [_first]).Add(endpoint);
            }
        }

        public void Record(ServiceEndpoint endpoint, FailureKind kind, Exception ex)
        {
            _lastKind = kind;
            _tried ??= [_first!];
            var port = endpoint.Port ?? OriginalUri.Port;
            (_failures ??= []).Add($"{endpoint.HostText}:{port.ToString(CultureInfo.InvariantCulture)} ({FailureClassifier.Describe(ex)})");
        }

        public bool ShouldRetry(CancellationToken token)
        {
            if (token.IsCancellationRequested || Attempts >= _maxAttempts)
            {
                return false;
            }

            return _lastKind switch
            {
                FailureKind.Connect => true,
                FailureKind.AfterSend => RequestSafety.MayRetryAfterSend(Request),
                _ => false,
            };
        }

        /// <summary>The exception for a request that failed for good: it names the host, each address tried and what happened there.</summary>
        public Exception Failed(Exception last)
        {
            if (_lastKind is FailureKind.Cancelled or FailureKind.Other || _failures is null)
            {
                return last;
            }

            var host = Entry.Key.Host;
            Handler._cache.Metrics.Request(host, "failure");
            var message = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"{Request.Method} {OriginalUri.GetLeftPart(UriPartial.Path)} failed on every address tried for {host}: ")
                .AppendJoin("; ", _failures)
                .Append('.');
            if (_lastKind == FailureKind.AfterSend && Attempts < _maxAttempts && !RequestSafety.MayRetryAfterSend(Request))
            {
                message.Append(" Not retried elsewhere: the request may have reached the server and is not idempotent or its body cannot be replayed.");
            }

            var error = last is HttpRequestException h ? h.HttpRequestError : HttpRequestError.ConnectionError;
            return new HttpRequestException(error, message.ToString(), last);
        }
    }
}
