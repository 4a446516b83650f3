using System.Diagnostics;
using System.Runtime.ExceptionServices;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;
using Polly;

namespace CloudMapDiscovery.Http;

/// <summary>
/// Sends each request to one task address of its host: picks an endpoint round robin, rewrites the URI to that
/// address while keeping the original host in the Host header (and so in TLS SNI and certificate checks), and on a
/// transport failure reports it for ejection and retries on an address this request has not tried yet.
/// </summary>
internal sealed class CloudMapDiscoveryHandler : DelegatingHandler
{
    private readonly BalancingPartition _balancers;
    private readonly HostMatcher _hosts;
    private readonly HttpSettings _settings;
    private readonly CloudMapContext _context;
    private readonly RetryPipeline? _retries;
    private readonly PickPolicy _policy;
    private readonly Func<RequestState, ValueTask<Outcome<HttpResponseMessage>>> _retryAttempt;
    private HostCache? _lastRoute;

    public CloudMapDiscoveryHandler(BalancingPartition balancers, HostMatcher hosts, HttpSettings settings, CloudMapContext context, string? clientName)
    {
        _balancers = balancers;
        _context = context;
        _hosts = hosts;
        _settings = settings;
        var logger = context.LoggerFactory.CreateLogger("CloudMapDiscovery.Http");
        _retries = settings.MaxAttempts > 1 ? new RetryPipeline(settings.MaxAttempts, clientName, context, logger) : null;
        _retryAttempt = RetryAttemptAsync;
        _policy = PickPolicy.For(settings.LoadBalancer, context);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => CloudMapTelemetry.Source.HasListeners() ? SendTracedAsync(request, cancellationToken) : Route(request, traced: false, cancellationToken);

    // An async method of its own: the attempt spans become the current activity while they run, and only an async
    // method gives the caller its own current activity back when it returns.
    private async Task<HttpResponseMessage> SendTracedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => await Route(request, traced: true, cancellationToken).ConfigureAwait(false);

    private Task<HttpResponseMessage> Route(HttpRequestMessage request, bool traced, CancellationToken cancellationToken)
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
        var route = Volatile.Read(ref _lastRoute);
        if (route is null || route.Balancer.IsRetired || uri.Port != route.Port || !string.Equals(idnHost, route.Host, StringComparison.Ordinal))
        {
            var host = _hosts.Match(uri);
            if (host is null)
            {
                return base.SendAsync(request, cancellationToken);
            }

            route = new HostCache(idnHost, uri.Port, _balancers.GetBalancer(host, _hosts.RecordTypes, uri.Port, uri.Scheme));
            Volatile.Write(ref _lastRoute, route); // allocates only when the host changes
        }

        // A fresh answer costs two field reads; one due for refresh is still served synchronously while usable.
        if (!route.Balancer.TryGetFresh(out var set))
        {
            var pending = route.Balancer.GetAsync(cancellationToken);
            if (!pending.IsCompletedSuccessfully)
            {
                return WaitThenSendAsync(request, uri, route, pending, traced, cancellationToken);
            }

            set = pending.Result;
        }

        return SendToServiceAsync(request, uri, route, set, traced, cancellationToken);
    }

    private async Task<HttpResponseMessage> WaitThenSendAsync(
        HttpRequestMessage request, Uri uri, HostCache route, ValueTask<BalancedSet> pending, bool traced, CancellationToken cancellationToken)
    {
        BalancedSet set;
        try
        {
            set = await pending.ConfigureAwait(false);
        }
        catch (ServiceDiscoveryException ex)
        {
            _context.Metrics.Request(route.Balancer.Key.Host, "discovery_error");
            throw new HttpRequestException(HttpRequestError.NameResolutionError, ex.Message, ex);
        }
        catch (OperationCanceledException)
        {
            _context.Metrics.Request(route.Balancer.Key.Host, "cancelled");
            throw;
        }

        return await SendToServiceAsync(request, uri, route, set, traced, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a request's first attempt to the service.</summary>
    /// <remarks>
    /// Not an async method: when the inner handlers answer synchronously (a cached response, a short-circuiting
    /// handler) the request costs no state machine and no extra <see cref="Task"/>; only a send still running, or one
    /// that failed, goes on in <see cref="CompleteAsync"/>.
    /// </remarks>
    private Task<HttpResponseMessage> SendToServiceAsync(HttpRequestMessage request, Uri uri, HostCache route, BalancedSet set, bool traced, CancellationToken cancellationToken)
    {
        var balancer = route.Balancer;
        if (set.Endpoints.Length == 0)
        {
            var host = balancer.Key.Host;
            _context.Metrics.Request(host, "no_instances");
            var noInstances = new ServiceDiscoveryException(host, $"No instances are registered for {host} ({set.NegativeReason}).") { NoInstances = true };
            return Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.NameResolutionError, noInstances.Message, noInstances));
        }

        // Everything that could throw before the send happens before the request is touched.
        var endpoint = balancer.Pick(set, null, _policy, panic: true)!;
        var target = EndpointUriCache.Of(endpoint).Rewrite(uri); // no UriBuilder; reused while the path repeats
        var headers = request.Headers;

        // The caller's Host header wins; otherwise the original authority keeps virtual hosting, SNI and the
        // certificate check working against the name, not the address.
        var addedHost = headers.Host is null;
        if (addedHost)
        {
            headers.TryAddWithoutValidation("Host", route.HostHeaderFor(uri));
        }

        request.RequestUri = target;
        var activity = traced ? AttemptActivity.Start(balancer.Key.Host, endpoint, endpoint.Address.Port ?? uri.Port, 1) : null;
        var started = balancer.Start(endpoint, _policy);
        Task<HttpResponseMessage> sent;
        try
        {
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
            return CompleteAsync(sent, request, uri, route, set, endpoint, started, target, addedHost, activity, cancellationToken);
        }

        try
        {
            AttemptActivity.Answered(activity, sent.Result);
            RequestOutcome.Answered(balancer, endpoint, started, sent.Result);
            _context.Metrics.Request(balancer.Key.Host, "success", endpoint.Locality);
        }
        finally
        {
            RequestOutcome.Restore(request, uri, target, addedHost);
        }

        return sent;
    }

    private async Task<HttpResponseMessage> CompleteAsync(
        Task<HttpResponseMessage> sent,
        HttpRequestMessage request,
        Uri uri,
        HostCache route,
        BalancedSet set,
        BalancedEndpoint endpoint,
        long started,
        Uri target,
        bool addedHost,
        Activity? activity,
        CancellationToken cancellationToken)
    {
        RequestState? state = null;
        try
        {
            Outcome<HttpResponseMessage> outcome;
            try
            {
                var response = await sent.ConfigureAwait(false);
                AttemptActivity.Answered(activity, response);
                RequestOutcome.Answered(route.Balancer, endpoint, started, response);
                _context.Metrics.Request(route.Balancer.Key.Host, "success", endpoint.Locality);
                return response;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Only now does the request need to remember anything across attempts.
                route.Balancer.Finish(endpoint, started);
                state = new RequestState(request, uri, route, set, _settings, cancellationToken);
                state.Begin(endpoint, target);
                var kind = FailureClassifier.Classify(ex, cancellationToken);
                AttemptActivity.Failed(activity, kind, ex);
                outcome = state.Fail(kind, ex);
            }
            catch (Exception ex)
            {
                route.Balancer.Finish(endpoint, started);
                route.Balancer.Abandon(endpoint);
                AttemptActivity.Failed(activity, FailureKind.Other, ex);
                _context.Metrics.Request(route.Balancer.Key.Host, "error");
                throw;
            }

            if (_retries is not null && state.ShouldRetry())
            {
                outcome = await _retries.ExecuteAsync(state, outcome.Exception!, _retryAttempt).ConfigureAwait(false);
            }

            if (outcome.Exception is null)
            {
                _context.Metrics.Request(route.Balancer.Key.Host, "success_after_retry", state.LastEndpoint?.Locality);
                return outcome.Result!;
            }

            state.ReportLastFailure();
            var failure = state.Failed(outcome.Exception, _context);
            if (ReferenceEquals(failure, outcome.Exception))
            {
                // Cancellation and unexpected errors go out as they came, with their original stack trace.
                ExceptionDispatchInfo.Throw(failure);
            }

            throw failure;
        }
        finally
        {
            RequestOutcome.Restore(request, uri, state?.SentUri ?? target, addedHost);
        }
    }

    /// <summary>One attempt after a failure, made by the retry pipeline on an endpoint this request has not tried.</summary>
    private async ValueTask<Outcome<HttpResponseMessage>> RetryAttemptAsync(RequestState state)
    {
        var endpoint = state.Balancer.Pick(state.Set, state.Tried, _policy, panic: false);
        if (endpoint is null)
        {
            // Every untried address went out between the state's check and this pick: no new attempt, the last failure stands.
            return Outcome.FromException<HttpResponseMessage>(state.LastError!);
        }

        var target = EndpointUriCache.Of(endpoint).Rewrite(state.OriginalUri);
        state.Begin(endpoint, target);
        state.Request.RequestUri = target;
        using var activity = AttemptActivity.Start(state.Host, endpoint, endpoint.Address.Port ?? state.OriginalUri.Port, state.Attempt);
        var started = state.Balancer.Start(endpoint, _policy);
        try
        {
            var response = await base.SendAsync(state.Request, state.CallerToken).ConfigureAwait(false);
            AttemptActivity.Answered(activity, response);
            RequestOutcome.Answered(state.Balancer, endpoint, started, response);
            return Outcome.FromResult(response);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            state.Balancer.Finish(endpoint, started);
            var kind = FailureClassifier.Classify(ex, state.CallerToken);
            AttemptActivity.Failed(activity, kind, ex);
            return state.Fail(kind, ex);
        }
#pragma warning disable CA1031 // recorded as what it is, so that it is neither retried nor mistaken for a network failure
        catch (Exception ex)
#pragma warning restore CA1031
        {
            state.Balancer.Finish(endpoint, started);
            AttemptActivity.Failed(activity, FailureKind.Other, ex);
            return state.Fail(FailureKind.Other, ex);
        }
    }
}
