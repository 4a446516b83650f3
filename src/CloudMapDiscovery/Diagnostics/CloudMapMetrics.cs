using System.Diagnostics.Metrics;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>
/// The <c>CloudMapDiscovery</c> meter. Instruments follow OpenTelemetry naming; tags are low-cardinality
/// (host names of services, outcomes, response codes; never addresses except on the endpoint gauges).
/// </summary>
internal sealed class CloudMapMetrics : IDisposable
{
    public const string MeterName = "CloudMapDiscovery";

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
        _requests = _meter.CreateCounter<long>("cloudmap.requests", "{request}", "HTTP requests through discovery, by outcome.");
        _retries = _meter.CreateCounter<long>("cloudmap.retries", "{retry}", "Requests retried on another address.");
        _ejections = _meter.CreateCounter<long>("cloudmap.ejections", "{ejection}", "Endpoints ejected after failing.");
        _dnsQueries = _meter.CreateCounter<long>("cloudmap.dns.queries", "{query}", "DNS questions asked, by response code (or error).");
        _cacheLookups = _meter.CreateCounter<long>("cloudmap.cache.lookups", "{lookup}", "Endpoint cache lookups, by result (hit, stale, miss).");
        _probes = _meter.CreateCounter<long>("cloudmap.probes", "{probe}", "Background connects to ejected or new endpoints, by outcome.");
        _dnsDuration = _meter.CreateHistogram<double>("cloudmap.dns.duration", "s", "Time to answer a DNS question, retries included.");
    }

    public Meter Meter => _meter;

    public void Request(string host, string outcome)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>("host", host), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void Retry(string host)
    {
        if (_retries.Enabled)
        {
            _retries.Add(1, new KeyValuePair<string, object?>("host", host));
        }
    }

    public void Probe(string host, string outcome)
    {
        if (_probes.Enabled)
        {
            _probes.Add(1, new KeyValuePair<string, object?>("host", host), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void Ejection(string host)
    {
        if (_ejections.Enabled)
        {
            _ejections.Add(1, new KeyValuePair<string, object?>("host", host));
        }
    }

    public void DnsQuery(string responseCode, TimeSpan elapsed)
    {
        if (_dnsQueries.Enabled)
        {
            _dnsQueries.Add(1, new KeyValuePair<string, object?>("response_code", responseCode));
        }

        if (_dnsDuration.Enabled)
        {
            _dnsDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("response_code", responseCode));
        }
    }

    public void CacheLookup(string host, string result)
    {
        if (_cacheLookups.Enabled)
        {
            _cacheLookups.Add(1, new KeyValuePair<string, object?>("host", host), new KeyValuePair<string, object?>("result", result));
        }
    }

    /// <summary>Gauges of healthy and ejected endpoints per host, read from the snapshots when observed.</summary>
    public void ObserveEndpoints(Func<IReadOnlyList<ServiceSnapshot>> snapshot)
    {
        _meter.CreateObservableGauge("cloudmap.endpoints", () => snapshot().SelectMany(s => new[]
        {
            new Measurement<long>(s.Endpoints.Count(e => e.State == EndpointState.Healthy), new KeyValuePair<string, object?>("host", s.Host), new KeyValuePair<string, object?>("state", "healthy")),
            new Measurement<long>(s.Endpoints.Count(e => e.State == EndpointState.Ejected), new KeyValuePair<string, object?>("host", s.Host), new KeyValuePair<string, object?>("state", "ejected")),
        }), "{endpoint}", "Endpoints per host, by state.");
    }

    public void Dispose() => _meter.Dispose();
}
