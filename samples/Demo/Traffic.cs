using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>How an act judges hello's answers.</summary>
internal enum ActPolicy
{
    /// <summary>Anything but 200 is a client failure.</summary>
    Strict,

    /// <summary>Name is down on purpose: a fast 502 with a one-line reason is expected, anything else fails.</summary>
    AllDown,

    /// <summary>Name is coming back: 502s before the first 200 are expected, anything but 200 after it fails.</summary>
    Recovering,

    /// <summary>A task answers 500 on purpose: hello's 502 relaying that 500 is expected (the act bounds how many), anything else fails.</summary>
    ServerErrors,
}

/// <summary>What one act saw, and its verdict.</summary>
internal sealed partial class ActStats
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _servedBy = [];
    private readonly Dictionary<string, TimeSpan> _firstServed = [];
    private readonly List<string> _reasons = [];
    private readonly List<string> _failureSamples = [];
    private readonly Dictionary<string, (TimeSpan At, long Picks)> _firstEjected = []; // when first seen ejected, and its picks then
    private readonly HashSet<string> _probingSeen = [];
    private readonly Dictionary<string, long> _latestPicks = [];
    private readonly List<(TimeSpan Started, TimeSpan Latency)> _answered = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public ActStats(int number, string title, string expectation, ActPolicy policy)
    {
        Number = number;
        Title = title;
        Expectation = expectation;
        Policy = policy;
    }

    public int Number { get; }

    public string Title { get; }

    public string Expectation { get; }

    public ActPolicy Policy { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public TimeSpan? Duration { get; private set; }

    public int Requests { get; private set; }

    public int Ok { get; private set; }

    public int Expected502 { get; private set; }

    public int Failures { get; private set; }

    public TimeSpan? FirstOk { get; private set; }

    public TimeSpan? LastNotOk { get; private set; }

    public TimeSpan Slowest502 { get; private set; }

    public bool StaleSeen { get; private set; }

    public bool? Passed { get; private set; }

    public string Verdict { get; private set; } = string.Empty;

    public void Record(HttpStatusCode? status, string body, TimeSpan latency, string? error)
    {
        lock (_gate)
        {
            var at = _clock.Elapsed;
            Requests++;
            if (status == HttpStatusCode.OK)
            {
                Ok++;
                FirstOk ??= at;
                _answered.Add((at - latency, latency));
                if (ServedByPattern().Match(body) is { Success: true } m)
                {
                    var ip = m.Groups["ip"].Value;
                    _servedBy[ip] = _servedBy.GetValueOrDefault(ip) + 1;
                    _firstServed.TryAdd(ip, at);
                }

                return;
            }

            LastNotOk = at;
            var reason = error ?? $"{(status is { } s ? (int)s : 0)} {body}";
            var expected = status == HttpStatusCode.BadGateway && body.Length > 0 && !body.Contains('\n', StringComparison.Ordinal) && latency < TimeSpan.FromSeconds(3) && Policy switch
            {
                ActPolicy.AllDown => true,
                ActPolicy.Recovering => FirstOk is null,
                ActPolicy.ServerErrors => body.Contains(" answered 500 ", StringComparison.Ordinal),
                _ => false,
            };
            if (expected)
            {
                Expected502++;
                Slowest502 = latency > Slowest502 ? latency : Slowest502;
                var shape = AddressPattern().Replace(body, "*");
                if (_reasons.Count < 3 && !_reasons.Any(r => AddressPattern().Replace(r, "*") == shape))
                {
                    _reasons.Add(body);
                }
            }
            else
            {
                Failures++;
                if (_failureSamples.Count < 3)
                {
                    _failureSamples.Add($"{reason} after {latency.TotalMilliseconds:0} ms");
                }
            }
        }
    }

    public void Observe(IEnumerable<string> ejected, IEnumerable<string> probing, IReadOnlyDictionary<string, long> picks, bool stale)
    {
        lock (_gate)
        {
            foreach (var (ip, n) in picks)
            {
                _latestPicks[ip] = n;
            }

            foreach (var ip in ejected)
            {
                _firstEjected.TryAdd(ip, (_clock.Elapsed, picks.GetValueOrDefault(ip)));
            }

            _probingSeen.UnionWith(probing);
            StaleSeen |= stale;
        }
    }

    /// <summary>Requests hello's balancer sent to <paramref name="ip"/> after the monitor first saw it ejected.</summary>
    public long PicksSinceEjected(string ip)
    {
        lock (_gate)
        {
            return _firstEjected.TryGetValue(ip, out var then) ? _latestPicks.GetValueOrDefault(ip) - then.Picks : 0;
        }
    }

    public bool WasProbing(string ip)
    {
        lock (_gate)
        {
            return _probingSeen.Contains(ip);
        }
    }

    /// <summary>When the monitor first saw <paramref name="ip"/> ejected in this act.</summary>
    public TimeSpan? FirstEjected(string ip)
    {
        lock (_gate)
        {
            return _firstEjected.TryGetValue(ip, out var t) ? t.At : null;
        }
    }

    /// <summary>The slowest and the median answered request among those that started after <paramref name="after"/>.</summary>
    public (TimeSpan Slowest, TimeSpan Median, int Count) AnsweredAfter(TimeSpan after)
    {
        lock (_gate)
        {
            var latencies = _answered.Where(a => a.Started > after).Select(a => a.Latency).Order().ToList();
            return latencies.Count == 0 ? (TimeSpan.Zero, TimeSpan.Zero, 0) : (latencies[^1], latencies[latencies.Count / 2], latencies.Count);
        }
    }

    /// <summary>The latency below which the share <paramref name="p"/> (0-1) of answered requests came back.</summary>
    public TimeSpan AnsweredPercentile(double p)
    {
        lock (_gate)
        {
            var latencies = _answered.Select(a => a.Latency).Order().ToList();
            return latencies.Count == 0 ? TimeSpan.Zero : latencies[Math.Min(latencies.Count - 1, (int)(p * latencies.Count))];
        }
    }

    public bool WasEjected(string ip)
    {
        lock (_gate)
        {
            return _firstEjected.ContainsKey(ip);
        }
    }

    public IReadOnlyDictionary<string, int> ServedBy()
    {
        lock (_gate)
        {
            return new SortedDictionary<string, int>(_servedBy, StringComparer.Ordinal);
        }
    }

    public TimeSpan? FirstServedBy(string ip)
    {
        lock (_gate)
        {
            return _firstServed.TryGetValue(ip, out var t) ? t : null;
        }
    }

    public IReadOnlyList<string> Reasons()
    {
        lock (_gate)
        {
            return [.. _reasons];
        }
    }

    public IReadOnlyList<string> FailureSamples()
    {
        lock (_gate)
        {
            return [.. _failureSamples];
        }
    }

    public void End() => Duration = _clock.Elapsed;

    public void Judge(bool passed, string verdict)
    {
        if (Failures > 0)
        {
            passed = false;
            verdict = $"{Failures} client failure(s), e.g. {string.Join(" | ", FailureSamples())}; {verdict}";
        }

        Passed = passed;
        Verdict = verdict;
    }

    /// <summary>The name task named at the end of hello's answer: <c>... Sophia (from host 127.0.0.3)</c>.</summary>
    [GeneratedRegex(@"\(from \S+ (?<ip>[0-9A-Fa-f.:]+)\)\s*$")]
    private static partial Regex ServedByPattern();

    [GeneratedRegex(@"\d+\.\d+\.\d+\.\d+(:\d+)?( \([^)]*\))?")]
    private static partial Regex AddressPattern();
}

/// <summary>The client: calls hello every 25 ms and hands each answer to the current act.</summary>
internal sealed class TrafficClient : IDisposable
{
    private readonly HttpClient _http;
    private volatile Uri _hello;

    public TrafficClient(Uri hello)
    {
        _hello = hello;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    public ActStats? Current { get; set; }

    /// <summary>Sends the traffic to another hello from the next request on.</summary>
    public void Retarget(Uri hello) => _hello = hello;

    public int Total { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (await tick.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var act = Current;
            if (act is null)
            {
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = await _http.GetAsync(_hello, cancellationToken).ConfigureAwait(false);
                var body = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).TrimEnd('\r', '\n');
                act.Record(response.StatusCode, body, Stopwatch.GetElapsedTime(started), null);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                act.Record(null, string.Empty, Stopwatch.GetElapsedTime(started), $"hello unreachable: {ex.Message}");
            }

            Total++;
        }
    }

    /// <summary>A one-off GET, for /ping.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(_hello, path), cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim());
    }

    public void Dispose() => _http.Dispose();
}
