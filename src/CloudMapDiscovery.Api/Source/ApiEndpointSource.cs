using CloudMapDiscovery.Api.Client;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Api.Source;

/// <summary>Endpoints of <c>&lt;service&gt;.&lt;namespace&gt;</c> from Cloud Map's API, refreshed by revision.</summary>
/// <remarks>
/// Each time the cache asks (about once per MinTtl per name), one <c>DiscoverInstancesRevision</c> call; the instance
/// list (<c>DiscoverInstances</c>) only when the revision moved, at the first ask, and every
/// <see cref="ApiSettings.HealthRefreshInterval"/> (the revision does not move on health changes). Throttled: the last
/// good answer is served and calls wait an exponential backoff with full jitter on top of the cache's interval (so
/// never more often than without throttling). <c>ServiceNotFound</c> / <c>NamespaceNotFound</c>: a negative answer.
/// Any other failure is thrown (the cache serves its last good answer stale) and waits the same backoff.
/// The state of a name lives while a cache tracks it (<see cref="Track"/>): caches sharing this source track it
/// each, and the last one to evict the name drops it, so the state is bounded as the caches are.
/// </remarks>
internal sealed class ApiEndpointSource : ICloudMapEndpointSource
{
    /// <summary>A name asked for again within this time (by clients of another cache) gets the answer in hand without a call.</summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan BackoffBase = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BackoffCap = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, NameState> _names = new(StringComparer.Ordinal); // the names tracked, under _namesGate
    private readonly object _namesGate = new();
    private readonly CloudMapApiClient _client;
    private readonly ApiCallBudget _budget;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    public ApiEndpointSource(CloudMapApiClient client, ApiSettings settings, ApiCallBudget budget, TimeProvider clock, ILogger logger)
    {
        _client = client;
        Settings = settings;
        _budget = budget;
        _clock = clock;
        _logger = logger;
    }

    public ApiSettings Settings { get; }

    /// <summary>How many names the source keeps state for (the names some cache tracks).</summary>
    public int NameCount
    {
        get
        {
            lock (_namesGate)
            {
                return _names.Count;
            }
        }
    }

    /// <summary>The service and namespace a host names: <c>api.internal</c> is service <c>api</c> in namespace <c>internal</c>.</summary>
    public static (string Service, string Namespace) Split(string host)
    {
        var dot = host.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == host.Length - 1)
        {
            throw new ServiceDiscoveryException(host, $"Cannot discover {host} through the Cloud Map API: the host must be <service>.<namespace> (such as api.internal).");
        }

        return (host[..dot], host[(dot + 1)..]);
    }

    public async Task<CloudMapSourceAnswer> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var (service, ns) = Split(host);
        NameState? state;
        lock (_namesGate)
        {
            if (!_names.TryGetValue(host, out state))
            {
                state = new NameState(); // untracked: this call's own, kept by nobody
            }
        }

        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ResolveLockedAsync(host, _client.Endpoint.Authority, Settings.Query(ns, service), state, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            state.Gate.Release();
        }
    }

    public IDisposable Track(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_namesGate)
        {
            if (!_names.TryGetValue(host, out var state))
            {
                _names.Add(host, state = new NameState());
            }

            state.Trackers++;
            return new Tracking(this, host, state);
        }
    }

    private void Untrack(string host, NameState state)
    {
        lock (_namesGate)
        {
            if (--state.Trackers == 0)
            {
                _names.Remove(host); // a call still running on it finishes on a state nobody keeps
            }
        }
    }

    private async Task<CloudMapSourceAnswer> ResolveLockedAsync(string host, string where, DiscoverQuery query, NameState state, CancellationToken cancellationToken)
    {
        var now = _clock.GetTimestamp();
        if (now < state.NotBefore)
        {
            // Backing off: no call. Throttling keeps the last good answer; anything else stays a failure.
            return state.LastError is CloudMapApiException { IsThrottling: true } && state.Answer is { } kept ? kept : throw state.LastError!;
        }

        if (state.Answer is { } recent && _clock.GetElapsedTime(state.LastCall, now) < Recheck)
        {
            return recent;
        }

        var operation = CloudMapApiClient.DiscoverInstancesRevision;
        try
        {
            var full = state.Answer is null || state.Revision is null || _clock.GetElapsedTime(state.LastFull, now) >= Settings.HealthRefreshInterval;
            if (!full)
            {
                if (!Spend(host))
                {
                    return state.Answer!;
                }

                var revision = await _client.DiscoverInstancesRevisionAsync(query, cancellationToken).ConfigureAwait(false);
                state.Succeeded(now);
                if (revision == state.Revision)
                {
                    return state.Answer!;
                }
            }

            operation = CloudMapApiClient.DiscoverInstances;
            if (!Spend(host))
            {
                return state.Answer ?? throw new CloudMapApiException(operation, "BudgetSpent", null,
                    $"Cloud Map {operation} for {host} was not called: the process's budget of {_budget.Rate} API calls per second (CloudMapDiscovery:Api:MaxCallsPerSecond) is spent.");
            }

            var reply = await _client.DiscoverInstancesAsync(query, cancellationToken).ConfigureAwait(false);
            var (usable, skipped) = InstanceReader.Read(reply.Instances!);
            foreach (var (id, reason) in skipped)
            {
                if (state.Skipped.Add(id))
                {
                    Log.InstanceSkipped(_logger, host, id, reason); // once per instance
                }
            }

            Log.Called(_logger, operation, host, reply.InstancesRevision ?? 0, usable.Count);
            var description = $"Cloud Map API {where}, revision {reply.InstancesRevision}";
            var answer = usable.Count > 0 || skipped.Count == 0
                ? Settings.OwnerAccount is { } owner ? CloudMapSourceAnswer.FoundShared(usable, description, owner) : CloudMapSourceAnswer.Found(usable, description)
                : CloudMapSourceAnswer.NoInstances($"{skipped.Count} instance(s) of {host} and none with a usable address", description);
            state.Answer = answer;
            state.Revision = reply.InstancesRevision;
            state.LastFull = now;
            state.Succeeded(now);
            return answer;
        }
        catch (CloudMapApiException ex) when (ex.IsNotFound)
        {
            state.Forget(now);
            return CloudMapSourceAnswer.NoInstances($"{ex.ErrorCode} from Cloud Map {ex.Operation} ({query.NamespaceName}/{query.ServiceName})", $"Cloud Map API {where}");
        }
        catch (CloudMapApiException ex)
        {
            var backoff = state.Failed(ex, now, _clock);
            if (ex.IsThrottling)
            {
                Log.Throttled(_logger, operation, host, ex.ErrorCode, backoff);
                if (state.Answer is { } kept)
                {
                    return kept;
                }
            }

            throw;
        }
    }

    private bool Spend(string host)
    {
        if (_budget.TryTake())
        {
            return true;
        }

        Log.BudgetSpent(_logger, host, _budget.Rate);
        return false;
    }

    /// <summary>One name's state: the answer in hand, its revision, when it was read, and the backoff.</summary>
    private sealed class NameState
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>How many caches track the name (under the source's names lock).</summary>
        public int Trackers { get; set; }

        public HashSet<string> Skipped { get; } = new(StringComparer.Ordinal);

        public CloudMapSourceAnswer? Answer { get; set; }

        public long? Revision { get; set; }

        public long LastFull { get; set; }

        public long LastCall { get; private set; }

        public long NotBefore { get; private set; }

        public Exception? LastError { get; private set; }

        private int Failures { get; set; }

        public void Succeeded(long now)
        {
            LastCall = now;
            Failures = 0;
            NotBefore = 0;
            LastError = null;
        }

        public void Forget(long now)
        {
            Succeeded(now);
            Answer = null;
            Revision = null;
        }

        /// <summary>Records a failure; returns the backoff: full jitter over 5 s doubling per failure, capped at 5 minutes.</summary>
        public TimeSpan Failed(Exception error, long now, TimeProvider clock)
        {
            Failures++;
            LastError = error;
            LastCall = now;
            var ceiling = Math.Min(BackoffCap.TotalSeconds, BackoffBase.TotalSeconds * Math.Pow(2, Math.Min(Failures, 16)));
            var backoff = TimeSpan.FromSeconds(Random.Shared.NextDouble() * ceiling);
            NotBefore = now + (long)(backoff.TotalSeconds * clock.TimestampFrequency);
            return backoff;
        }
    }

    /// <summary>One cache's hold on a name; the first dispose lets go of it.</summary>
    private sealed class Tracking(ApiEndpointSource source, string host, NameState state) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                source.Untrack(host, state);
            }
        }
    }
}
