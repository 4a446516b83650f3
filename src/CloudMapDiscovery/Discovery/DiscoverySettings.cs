using CloudMapDiscovery.Shared;
namespace CloudMapDiscovery.Discovery;

/// <summary>How names are resolved and cached.</summary>
/// <remarks>
/// Resolution caches are shared by equality of these settings. <paramref name="Source"/>, when set, replaces DNS
/// (compared by reference: its factory hands the same instance to clients with the same settings).
/// </remarks>
internal sealed record DiscoverySettings(DnsSettings Dns, CacheSettings Cache, ICloudMapEndpointSource? Source = null);

/// <summary>Which name servers to ask, and how patiently; unset values come from /etc/resolv.conf.</summary>
internal sealed record DnsSettings(ValueArray<string> NameServers, TimeSpan? Timeout, int? Attempts);

/// <summary>How long answers are kept, trusted and remembered (see <see cref="CloudMapDiscoveryOptions"/> for each reason).</summary>
internal sealed record CacheSettings(
    TimeSpan MinTtl,
    TimeSpan MaxTtl,
    TimeSpan MaxStale,
    TimeSpan NegativeTtlCap,
    TimeSpan IdleTimeout,
    int MaxNames,
    MultiValueSettings MultiValue);

/// <summary>Merging of Route 53 MULTIVALUE answers, which hold a random subset of at most <see cref="AnswerLimit"/> records.</summary>
internal sealed record MultiValueSettings(bool Merge, int AnswerLimit, TimeSpan Retention);

/// <summary>Which hosts are discovered and through which records: the rules that turn a request's host into a service to resolve.</summary>
internal sealed record TargetingSettings(DiscoveryRecordTypes RecordTypes, ValueArray<string> HostSuffixes, string? ServiceDiscoveryDomain);
