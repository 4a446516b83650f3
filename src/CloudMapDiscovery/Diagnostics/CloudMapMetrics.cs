using System.Diagnostics.Metrics;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>The <c>CloudMapDiscovery</c> meter.</summary>
/// <remarks>
/// Instruments and tags follow OpenTelemetry naming (namespaced keys, lower-case values); tags are low-cardinality:
/// service host names, outcomes, response codes, never addresses except on the endpoint gauge's states.
/// </remarks>
internal sealed class CloudMapMetrics : IDisposable
{
    public const string MeterName = CloudMapTelemetry.Name;

    private const string Outcome = "cloudmap.request.outcome";

    /// <summary>The tag saying whether a request or attempt stayed in the caller's zone: <c>local</c> or <c>cross_zone</c>.</summary>
    public const string Locality = "cloudmap.zone.locality";
    private const string CacheResult = "cloudmap.cache.result";
    private const string ProbeOutcome = "cloudmap.probe.outcome";
    private const string EjectionReasonTag = "cloudmap.ejection.reason";
    private const string EndpointStateTag = "cloudmap.endpoint.state";
    private const string QuestionType = "dns.question.type";
    private const string ResponseCode = "dns.response_code";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _ejections;
    private readonly Counter<long> _dnsQueries;
    private readonly Counter<long> _cacheLookups;
    private readonly Histogram<double> _dnsDuration;
    private readonly Counter<long> _probes;

    public CloudMapMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("cloudmap.requests", "{request}", "HTTP requests through discovery, by outcome (success, success_after_retry, failure, no_instances, discovery_error, cancelled, error) and, when zones are known, cloudmap.zone.locality (local, cross_zone).");
        _retries = _meter.CreateCounter<long>("cloudmap.retries", "{retry}", "Requests retried on another address.");
        _ejections = _meter.CreateCounter<long>("cloudmap.ejections", "{ejection}", "Endpoints ejected after failing.");
        _dnsQueries = _meter.CreateCounter<long>("cloudmap.dns.queries", "{query}", "DNS questions asked, by response code (noerror, nxdomain) or error type.");
        _cacheLookups = _meter.CreateCounter<long>("cloudmap.cache.lookups", "{lookup}", "Endpoint cache lookups, by result (hit, stale, miss).");
        _probes = _meter.CreateCounter<long>("cloudmap.probes", "{probe}", "Background connects to ejected or new endpoints, by outcome (success, failure).");
        _dnsDuration = _meter.CreateHistogram<double>("cloudmap.dns.duration", "s", "Time to answer a DNS question or to fail to, retries included.");
    }

    public Meter Meter => _meter;

    /// <summary>One request's outcome; <paramref name="locality"/> (<c>local</c>, <c>cross_zone</c>) names where its last attempt went, when both zones are known.</summary>
    public void Request(string host, string outcome, string? locality = null)
    {
        if (!_requests.Enabled)
        {
            return;
        }

        if (locality is null)
        {
            _requests.Add(1, Host(host), new KeyValuePair<string, object?>(Outcome, outcome));
        }
        else
        {
            _requests.Add(1, Host(host), new KeyValuePair<string, object?>(Outcome, outcome), new KeyValuePair<string, object?>(Locality, locality));
        }
    }

    public void Retry(string host)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1, Host(host));
        }
    }

    public void Probe(string host, string outcome)
    {
        if (_probes.Enabled)
        {
            _probes.Add(1, Host(host), new KeyValuePair<string, object?>(ProbeOutcome, outcome));
        }
    }

    public void Ejection(string host, string reason)
    {
        if (_ejections.Enabled)
        {
            _ejections.Add(1, Host(host), new KeyValuePair<string, object?>(EjectionReasonTag, reason));
        }
    }

    /// <summary>One DNS question answered (<paramref name="responseCode"/> such as <c>noerror</c>) or failed (<paramref name="errorType"/>).</summary>
    public void DnsQuery(string questionType, string? responseCode, string? errorType, TimeSpan elapsed)
    {
        var type = new KeyValuePair<string, object?>(QuestionType, questionType);
        var result = errorType is null ? new KeyValuePair<string, object?>(ResponseCode, responseCode) : new KeyValuePair<string, object?>(CloudMapTelemetry.ErrorType, errorType);
        if (_dnsQueries.Enabled)
        {
            _dnsQueries.Add(1, type, result);
        }

        if (_dnsDuration.Enabled)
        {
            _dnsDuration.Record(elapsed.TotalSeconds, type, result);
        }
    }

    public void CacheLookup(string host, string result)
    {
        if (_cacheLookups.Enabled)
        {
            _cacheLookups.Add(1, Host(host), new KeyValuePair<string, object?>(CacheResult, result));
        }
    }

    /// <summary>Gauges of endpoints per host and state (healthy, ejected, probing), read from the snapshots when observed.</summary>
    public void ObserveEndpoints(Func<IReadOnlyList<ServiceSnapshot>> snapshot)
    {
        _meter.CreateObservableGauge("cloudmap.endpoints", () => snapshot().SelectMany(s => Enum.GetValues<EndpointState>().Select(state =>
            new Measurement<long>(
                s.Endpoints.Count(e => e.State == state),
                Host(s.Host),
                new KeyValuePair<string, object?>(EndpointStateTag, StateName(state))))), "{endpoint}", "Endpoints per host, by state.");
    }

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Host(string host) => new(CloudMapTelemetry.ServerAddress, host);

    private static string StateName(EndpointState state) => state switch
    {
        EndpointState.Healthy => "healthy",
        EndpointState.Ejected => "ejected",
        _ => "probing",
    };
}
