using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Dns.Configuration;
using CloudMapDiscovery.Dns.Transport;
using CloudMapDiscovery.Dns.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudMapDiscovery.Dns;

/// <summary>
/// A stub DNS resolver that keeps what <see cref="System.Net.Dns"/> throws away: TTLs, SRV records, CNAME chains, the
/// response code, and which server answered over which transport.
/// </summary>
/// <remarks>
/// Use it directly for gRPC channels or raw sockets; the HttpClient integration uses it through its endpoint cache.
/// Each query goes over UDP with EDNS(0) from a fresh ephemeral port with a random ID; a truncated
/// reply is asked again over TCP. Servers are tried in order (or in turn, with rotate), each up to
/// <see cref="DnsResolverOptions.Attempts"/> times; SERVFAIL, REFUSED, timeouts and network errors move on
/// to the next, while NXDOMAIN and NODATA are final answers. Replies that do not match the query's ID
/// and question are ignored; one that matches but cannot be read (cut short without the TC bit, say) is asked
/// again over TCP before the attempt counts as failed. Instances are thread-safe and hold no sockets between queries.
/// <para>
/// Whatever a server sends, one reply costs work linear in its size (at most 64 KB): a name may follow at most
/// 127 compression pointers, and a reply is turned into at most 1,000 records (A/AAAA answers, SRV records, or SRV
/// endpoints: a record times its target's addresses). Beyond that the first 1,000 are kept and a warning is
/// logged; Route 53 answers with at most 8. When SRV targets come without addresses, at most 64 distinct targets
/// are asked for, and one that cannot be resolved only loses its own addresses (<see cref="DnsServiceRecord.TargetError"/>
/// says why). Names read off the wire (CNAME
/// and SRV targets) are asked for byte for byte as the server wrote them; in results they appear in text form,
/// with <c>\DDD</c> for bytes text cannot carry, and can be passed back to <see cref="QueryAsync"/> as they are.
/// </para>
/// </remarks>
public sealed class DnsResolver : IDnsResolver
{
    private readonly ResolverSettings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly DnsExchange _exchange;
    private readonly ServiceTargetLookup _targets;
    private int _rotation;

    /// <summary>Creates a resolver.</summary>
    /// <param name="options">Settings; <see langword="null"/> or unset values come from /etc/resolv.conf, then defaults.</param>
    /// <param name="timeProvider">The clock for timeouts; <see cref="TimeProvider.System"/> by default.</param>
    /// <param name="logger">Where to log failed exchanges (debug) and failed questions (warning).</param>
    /// <exception cref="ArgumentException">An option is invalid; the message lists every problem.</exception>
    public DnsResolver(DnsResolverOptions? options = null, TimeProvider? timeProvider = null, ILogger<DnsResolver>? logger = null)
    {
        _settings = ResolverSettings.From(options ?? new DnsResolverOptions());
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _exchange = new DnsExchange(_timeProvider, _settings.Timeout, _settings.UdpPayloadSize, _settings.MaxCnameChain);
        _targets = new ServiceTargetLookup(ResolveAsync, _logger);
    }

    /// <summary>Gets the name servers this resolver asks, in order.</summary>
    public IReadOnlyList<IPEndPoint> NameServers => _settings.NameServers;

    /// <summary>Gets the per-attempt timeout in force.</summary>
    public TimeSpan Timeout => _settings.Timeout;

    /// <summary>Gets the number of attempts per server in force.</summary>
    public int Attempts => _settings.Attempts;

    /// <summary>Gets the search domains in force.</summary>
    public IReadOnlyList<string> SearchDomains => _settings.SearchDomains;

    /// <summary>Raised after each question with its outcome; used by the library's metrics.</summary>
    internal event Action<DnsQueryOutcome>? QueryCompleted;

    /// <summary>
    /// Asks for the <see cref="DnsRecordType.A"/>, <see cref="DnsRecordType.AAAA"/> or <see cref="DnsRecordType.SRV"/>
    /// records of <paramref name="name"/>, following CNAME chains.
    /// </summary>
    /// <param name="name">A host name, for example <c>name.internal</c>.</param>
    /// <param name="type">A, AAAA or SRV.</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The answer; NXDOMAIN and NODATA are answers with <see cref="DnsQueryResult.IsNegative"/> set.</returns>
    /// <exception cref="DnsResolutionException">No name server produced a usable answer; every failure that is not the caller's (a timeout, an error code, a broken or hostile reply) is this exception, naming the name, the type and the servers.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException">The name is not a valid DNS name or the type is not supported.</exception>
    public async ValueTask<DnsQueryResult> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
    {
        if (type is not (DnsRecordType.A or DnsRecordType.AAAA or DnsRecordType.SRV))
        {
            throw new ArgumentException($"Only A, AAAA and SRV questions are supported (asked {type}).", nameof(type));
        }

        var normalized = DnsNameText.Normalize(name, out var absolute);
        if (_settings.NameServers.Count == 0)
        {
            throw new DnsResolutionException(
                normalized, type, [], $"DNS lookup of {normalized} ({type}) failed: no name server is configured (none in options, none in {_settings.NameServerSource}).");
        }

        var start = _timeProvider.GetTimestamp();
        using var activity = DnsTelemetry.Start(normalized, type);
        try
        {
            var result = await SearchAsync(normalized, absolute, type, start, cancellationToken).ConfigureAwait(false);
            DnsTelemetry.Answered(activity, result);
            QueryCompleted?.Invoke(new DnsQueryOutcome(type, result, null, _timeProvider.GetElapsedTime(start)));
            return result;
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            DnsTelemetry.Failed(activity, ex);
            throw;
        }
        catch (Exception ex)
        {
            // The contract is DnsResolutionException for every failure that is not the caller's: anything else that
            // escaped (a bug, not a server's doing) still names the question and the servers.
            var failure = ex as DnsResolutionException ?? new DnsResolutionException(
                normalized, type, [], $"DNS lookup of {normalized} ({type}) asking {string.Join(", ", _settings.NameServers)} failed unexpectedly: {ex.GetType().Name}: {ex.Message}", ex);
            Log.DnsQueryFailed(_logger, normalized, type, failure.Message);
            DnsTelemetry.Failed(activity, failure);
            QueryCompleted?.Invoke(new DnsQueryOutcome(type, null, failure, _timeProvider.GetElapsedTime(start)));
            if (ReferenceEquals(failure, ex))
            {
                throw;
            }

            throw failure;
        }
    }

    // Like glibc: a search-list candidate whose servers fail does not end the search. The first failure is kept (later
    // candidates are the less likely meaning of the name) and reported when no candidate answers with records: "no such
    // name" while another candidate's servers failed is the less useful thing to say.
    private async ValueTask<DnsQueryResult> SearchAsync(string name, bool absolute, DnsRecordType type, long start, CancellationToken cancellationToken)
    {
        DnsQueryResult? result = null;
        DnsResolutionException? failure = null;
        foreach (var candidate in Candidates(name, absolute))
        {
            try
            {
                result = await ResolveAsync(candidate, type, start, cancellationToken).ConfigureAwait(false);
            }
            catch (DnsResolutionException ex)
            {
                failure ??= ex;
                continue;
            }

            if (!result.IsNegative)
            {
                return result;
            }
        }

        return failure is null ? result! : throw failure;
    }

    // resolv.conf semantics, kept deliberately simple: a name with at least ndots dots is asked as is
    // and only as is (so name.internal is one query), a shorter one through each search domain first.
    private IEnumerable<string> Candidates(string name, bool absolute)
    {
        if (!absolute && _settings.SearchDomains.Count > 0 && DnsNameText.CountDots(name) < _settings.Ndots)
        {
            foreach (var domain in _settings.SearchDomains)
            {
                var candidate = name + "." + domain;
                if (candidate.Length < DnsName.MaxLength - 1)
                {
                    yield return candidate;
                }
            }
        }

        yield return name;
    }

    private async ValueTask<DnsQueryResult> ResolveAsync(string name, DnsRecordType type, long start, CancellationToken cancellationToken)
    {
        var chain = new List<DnsCanonicalNameRecord>();
        var current = name;
        while (true)
        {
            (DnsResponse Response, IPEndPoint Server, DnsTransport Transport) answer;
            try
            {
                answer = await AskAsync(current, type, cancellationToken).ConfigureAwait(false);
            }
            catch (DnsResolutionException ex) when (!ReferenceEquals(name, current))
            {
                // A failure asking for a CNAME target still names the name that was asked (and, through the cause, the target).
                throw new DnsResolutionException(name, type, ex.Attempts, $"DNS lookup of {name} ({type}) failed following its CNAME chain: {ex.Message}", ex);
            }

            var (response, server, transport) = answer;
            if (response.ReachedRecordLimit)
            {
                Log.DnsRecordLimitReached(_logger, current, type, server, DnsLimits.MaxRecords);
            }

            chain.AddRange(response.CanonicalNames);
            if (response.UnfollowedTarget is { } next)
            {
                if (chain.Count > _settings.MaxCnameChain || chain.Exists(c => string.Equals(c.Name, next, StringComparison.OrdinalIgnoreCase)))
                {
                    var detail = $"the CNAME chain {string.Join(" -> ", chain.Select(c => c.Name).Append(next))} is longer than {_settings.MaxCnameChain} links or loops";
                    throw new DnsResolutionException(name, type, [new DnsServerAttempt(server, transport, DnsAttemptOutcome.MalformedReply, detail)]);
                }

                current = next;
                continue;
            }

            var services = response.Services;
            if (type == DnsRecordType.SRV && ServiceTargetLookup.AnyNeeded(services))
            {
                (services, var limited) = await _targets.FillAsync(name, services, start, cancellationToken).ConfigureAwait(false);
                if (limited)
                {
                    Log.DnsRecordLimitReached(_logger, current, type, server, DnsLimits.MaxRecords);
                }
            }

            return new DnsQueryResult(
                name,
                type,
                response.ResponseCode,
                server,
                transport,
                response.Addresses,
                services,
                chain,
                response.NegativeTtl,
                _timeProvider.GetElapsedTime(start));
        }
    }

    private async ValueTask<(DnsResponse Response, IPEndPoint Server, DnsTransport Transport)> AskAsync(string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        var servers = _settings.NameServers;
        var first = _settings.Rotate ? (int)((uint)Interlocked.Increment(ref _rotation) % (uint)servers.Count) : 0;
        List<DnsServerAttempt>? failures = null;
        for (var attempt = 0; attempt < _settings.Attempts; attempt++)
        {
            for (var i = 0; i < servers.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var server = servers[(first + i) % servers.Count];
                var result = await _exchange.ExchangeAsync(server, name, type, cancellationToken).ConfigureAwait(false);
                if (result.Response is { } response)
                {
                    return (response, server, result.Transport);
                }

                Log.DnsExchangeFailed(_logger, name, type, result.Failure!.ToString());
                (failures ??= []).Add(result.Failure!);
            }
        }

        throw new DnsResolutionException(name, type, failures ?? []);
    }
}
