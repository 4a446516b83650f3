using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Http;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.DependencyInjection;

/// <summary>
/// The library's settings, built once from the flat <see cref="CloudMapDiscoveryOptions"/> into one immutable record
/// per layer.
/// </summary>
/// <remarks>
/// Records compare by value, so clients whose settings are equal share a cache and clients whose settings differ never
/// do: no hand-built key can forget an option.
/// </remarks>
/// <param name="Discovery">How names are resolved and cached (its source is plugged in by <see cref="ClientSettingsStore"/> for <see cref="CloudMapEndpointSourceKind.Api"/>).</param>
/// <param name="Targeting">Which hosts are discovered.</param>
/// <param name="Balancing">How endpoint health is judged.</param>
/// <param name="Http">The handler's own settings.</param>
/// <param name="Source">Where endpoints come from.</param>
internal sealed record CloudMapSettings(DiscoverySettings Discovery, TargetingSettings Targeting, BalancingSettings Balancing, HttpSettings Http, CloudMapEndpointSourceKind Source = CloudMapEndpointSourceKind.Dns)
{
    /// <summary>The failure-rate detector's window: Envoy's outlier-detection interval.</summary>
    public static readonly TimeSpan FailureRateWindow = TimeSpan.FromSeconds(10);

    /// <summary>The one place that maps each option to the setting it becomes (binding and validation aside).</summary>
    public static CloudMapSettings From(CloudMapDiscoveryOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new(
            new DiscoverySettings(
                new DnsSettings(new ValueArray<string>(o.NameServers), o.DnsTimeout, o.DnsAttempts),
                new CacheSettings(
                    o.MinTtl,
                    o.MaxTtl,
                    o.MaxStale,
                    o.NegativeTtlCap,
                    o.IdleTimeout,
                    o.MaxCachedNames,
                    new MultiValueSettings(o.MergeMultiValueAnswers, o.MultiValueAnswerLimit, o.MultiValueRetention))),
            new TargetingSettings(o.RecordTypes, new ValueArray<string>(o.HostSuffixes), o.ServiceDiscoveryDomain),
            new BalancingSettings(
                new EjectionSettings(
                    o.ConsecutiveConnectFailures,
                    o.ConsecutiveFailures,
                    o.ConsecutiveServerErrors,
                    o.BaseEjectionTime,
                    o.MaxEjectionTime,
                    o.MaxEjectionPercent,
                    o.FailureRateThreshold > 0 ? new FailureRateSettings(o.FailureRateThreshold, o.FailureRateMinimumRequests, FailureRateWindow) : null),
                new ProbeSettings(o.ProbeEjectedEndpoints, o.ProbeNewEndpoints, o.ConnectTimeout, string.IsNullOrEmpty(o.HealthCheckPath) ? null : o.HealthCheckPath),
                new ZoneSettings(o.ZoneAware, o.Zone, o.ZoneId, o.ZoneMinEndpoints, o.ZoneMinHealthyLocal)),
            new HttpSettings(o.MaxAttempts, o.LoadBalancer),
            o.Source);
    }
}
