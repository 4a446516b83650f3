using System.Globalization;
using System.Text;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;
using Polly;

namespace CloudMapDiscovery.Http;

/// <summary>
/// What one request carries across its attempts once its first attempt has failed: the endpoints tried, what went
/// wrong on each, and whether the last failure may go to another address within the attempt limit.
/// </summary>
internal sealed class RequestState
{
    private readonly List<BalancedEndpoint> _tried = [];
    private readonly List<string> _failures = [];
    private bool _lastReported;
    private string? _notRetried;

    public RequestState(HttpRequestMessage request, Uri originalUri, HostCache route, BalancedSet set, HttpSettings settings, CancellationToken callerToken)
    {
        Request = request;
        OriginalUri = originalUri;
        Route = route;
        Set = set;
        Settings = settings;
        CallerToken = callerToken;
    }

    public HttpRequestMessage Request { get; }

    public Uri OriginalUri { get; }

    public HostCache Route { get; }

    public ServiceBalancer Balancer => Route.Balancer;

    public string Host => Route.Balancer.Key.Host;

    public BalancedSet Set { get; }

    public HttpSettings Settings { get; }

    public CancellationToken CallerToken { get; }

    /// <summary>The URI the last attempt was sent to.</summary>
    public Uri? SentUri { get; private set; }

    /// <summary>The endpoints this request already used: a retry goes elsewhere.</summary>
    public IReadOnlyCollection<BalancedEndpoint> Tried => _tried;

    public BalancedEndpoint? LastEndpoint { get; private set; }

    public FailureKind LastKind { get; private set; }

    /// <summary>The last attempt's exception.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>The time the current attempt started, for its balancer (0 when its policy does not time attempts).</summary>
    public long Started { get; set; }

    /// <summary>The 1-based number of the attempt being made (for tags).</summary>
    public int Attempt => _tried.Count;

    public void Begin(BalancedEndpoint endpoint, Uri sent)
    {
        SentUri = sent;
        LastEndpoint = endpoint;
        _tried.Add(endpoint);
    }

    /// <summary>Records a failed attempt on the last endpoint; returns its outcome.</summary>
    public Outcome<HttpResponseMessage> Fail(FailureKind kind, Exception ex)
    {
        LastKind = kind;
        LastError = ex;
        _lastReported = false;
        var endpoint = LastEndpoint!;
        var port = endpoint.Address.Port ?? OriginalUri.Port;
        _failures.Add($"{endpoint.Address.HostText}:{port.ToString(CultureInfo.InvariantCulture)} ({FailureClassifier.Describe(ex)})");
        return Outcome.FromException<HttpResponseMessage>(ex);
    }

    /// <summary>Whether the last failure may be retried on another address, within <see cref="HttpSettings.MaxAttempts"/> counting the first attempt.</summary>
    public bool ShouldRetry()
    {
        if (CallerToken.IsCancellationRequested || _tried.Count >= Set.Endpoints.Length || _tried.Count >= Settings.MaxAttempts)
        {
            return false;
        }

        var retryable = LastKind switch
        {
            FailureKind.Connect or FailureKind.Tls => true,
            FailureKind.AfterSend => RequestSafety.MayRetryAfterSend(Request),
            _ => false,
        };
        return retryable && AnotherAvailable();
    }

    // A retry goes only to an address the balancer takes to be working: one known to be dead would only make the
    // request wait out a connect timeout again. With none left, the request fails now, and says why.
    private bool AnotherAvailable()
    {
        if (_notRetried is not null)
        {
            return false;
        }

        if (Balancer.AnyAvailable(Set, _tried))
        {
            return true;
        }

        var others = Set.Endpoints.Where(e => !_tried.Contains(e)).Select(e => $"{e.Address.HostText} {(e.Reason == EjectionReason.None ? "waiting for a probe" : "ejected: " + e.Reason.Tag())}");
        _notRetried = string.Join(", ", others);
        return false;
    }

    /// <summary>The request is about to be retried: the failure is held against its endpoint, and said.</summary>
    public void OnRetry(CloudMapContext context, ILogger logger, Exception? error)
    {
        ReportLastFailure();
        context.Metrics.Retry(Host);
        Log.RetryingElsewhere(logger, Host, LastEndpoint!.ToString(), Attempt, error is null ? "failed" : FailureClassifier.Describe(error));
    }

    /// <summary>Holds the last failure against its endpoint, once; a cancellation or an unexpected error is not the endpoint's fault.</summary>
    public void ReportLastFailure()
    {
        if (_lastReported || LastEndpoint is null)
        {
            return;
        }

        _lastReported = true;
        if (LastKind is FailureKind.Cancelled or FailureKind.Other)
        {
            Balancer.Abandon(LastEndpoint); // no verdict: a trial it was is offered again
            return;
        }

        Balancer.ReportFailure(LastEndpoint, LastKind switch
        {
            FailureKind.Connect => FailureCause.Connect,
            FailureKind.Tls => FailureCause.Tls,
            _ => FailureCause.Transport,
        });
    }

    /// <summary>The exception for a request that failed for good: it names the host, each address tried and what happened there.</summary>
    public Exception Failed(Exception last, CloudMapContext context)
    {
        // Polly checks the caller's token before each retry and hands back its own cancellation without an attempt:
        // that is the caller's cancellation, whatever the attempt before it failed with.
        var cancelled = LastKind == FailureKind.Cancelled || (last is OperationCanceledException && CallerToken.IsCancellationRequested);
        if (cancelled || LastKind == FailureKind.Other)
        {
            context.Metrics.Request(Host, cancelled ? "cancelled" : "error");
            return last;
        }

        context.Metrics.Request(Host, "failure", LastEndpoint?.Locality);
        var message = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{Request.Method} {OriginalUri.GetLeftPart(UriPartial.Path)} failed on every address tried for {Host}: ")
            .AppendJoin("; ", _failures)
            .Append('.');
        var attemptsLeft = _tried.Count < Math.Min(Settings.MaxAttempts, Set.Endpoints.Length);
        if (_notRetried is not null)
        {
            message.Append(CultureInfo.InvariantCulture, $" Not retried: every other address is out ({_notRetried}).");
        }
        else if (LastKind == FailureKind.AfterSend && attemptsLeft && !RequestSafety.MayRetryAfterSend(Request))
        {
            message.Append(" Not retried elsewhere: the request may have reached the server and is not idempotent or its body cannot be replayed.");
        }

        var error = last is HttpRequestException h ? h.HttpRequestError : HttpRequestError.ConnectionError;
        return new HttpRequestException(error, message.ToString(), last);
    }
}
