using CloudMapDiscovery.Dns.Configuration;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.DependencyInjection;

/// <summary>Checks <see cref="CloudMapDiscoveryOptions"/> at startup and names every bad value with what is allowed.</summary>
internal sealed class CloudMapDiscoveryOptionsValidator : IValidateOptions<CloudMapDiscoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, CloudMapDiscoveryOptions options)
    {
        var errors = Errors(options);
        if (errors.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var client = string.IsNullOrEmpty(name) ? string.Empty : $" (client '{name}')";
        return ValidateOptionsResult.Fail(errors.Select(e => $"{CloudMapDiscoveryOptions.SectionName}{client}: {e}"));
    }

    public static List<string> Errors(CloudMapDiscoveryOptions o)
    {
        var errors = new List<string>();
        ResolverSettings.CheckNameServers(errors, nameof(o.NameServers), o.NameServers);
        ResolverSettings.CheckTimeout(errors, nameof(o.DnsTimeout), o.DnsTimeout);
        ResolverSettings.CheckAttempts(errors, nameof(o.DnsAttempts), o.DnsAttempts);

        if (!Enum.IsDefined(o.RecordTypes))
        {
            errors.Add($"RecordTypes must be A, Aaaa, AAndAaaa or Srv (was {o.RecordTypes}).");
        }

        Positive(errors, nameof(o.MinTtl), o.MinTtl, allowZero: false);
        Positive(errors, nameof(o.MaxTtl), o.MaxTtl, allowZero: false);
        if (o.MaxTtl < o.MinTtl)
        {
            errors.Add($"MaxTtl ({o.MaxTtl}) must not be less than MinTtl ({o.MinTtl}).");
        }

        Positive(errors, nameof(o.MaxStale), o.MaxStale, allowZero: true);
        Positive(errors, nameof(o.NegativeTtlCap), o.NegativeTtlCap, allowZero: false);
        Positive(errors, nameof(o.IdleTimeout), o.IdleTimeout, allowZero: false);
        if (o.MaxCachedNames < 1)
        {
            errors.Add($"MaxCachedNames must be at least 1 (was {o.MaxCachedNames}).");
        }

        Positive(errors, nameof(o.MultiValueRetention), o.MultiValueRetention, allowZero: true);
        if (o.MultiValueAnswerLimit < 1)
        {
            errors.Add($"MultiValueAnswerLimit must be at least 1 (was {o.MultiValueAnswerLimit}).");
        }

        if (o.ConsecutiveConnectFailures < 1)
        {
            errors.Add($"ConsecutiveConnectFailures must be at least 1 (was {o.ConsecutiveConnectFailures}).");
        }

        if (o.ConsecutiveFailures < 1)
        {
            errors.Add($"ConsecutiveFailures must be at least 1 (was {o.ConsecutiveFailures}).");
        }

        if (o.ConsecutiveServerErrors < 0)
        {
            errors.Add($"ConsecutiveServerErrors must be 0 (off) or more (was {o.ConsecutiveServerErrors}).");
        }

        if (double.IsNaN(o.FailureRateThreshold) || o.FailureRateThreshold is < 0 or > 1)
        {
            errors.Add($"FailureRateThreshold must be from 0 (off) to 1 (was {o.FailureRateThreshold}).");
        }

        if (o.FailureRateMinimumRequests < 1)
        {
            errors.Add($"FailureRateMinimumRequests must be at least 1 (was {o.FailureRateMinimumRequests}).");
        }

        if (o.MaxEjectionPercent is < 1 or > 100)
        {
            errors.Add($"MaxEjectionPercent must be from 1 to 100 (was {o.MaxEjectionPercent}).");
        }

        if (o.HealthCheckPath is { Length: > 0 } path && (path[0] != '/' || !Uri.IsWellFormedUriString(path, UriKind.Relative)))
        {
            errors.Add($"HealthCheckPath must be an absolute path such as /health (was '{path}').");
        }

        if (!Enum.IsDefined(o.LoadBalancer))
        {
            errors.Add($"LoadBalancer must be RoundRobin, PowerOfTwoChoices or PeakEwma (was {o.LoadBalancer}).");
        }

        Positive(errors, nameof(o.BaseEjectionTime), o.BaseEjectionTime, allowZero: false);
        Positive(errors, nameof(o.MaxEjectionTime), o.MaxEjectionTime, allowZero: false);
        if (o.MaxEjectionTime < o.BaseEjectionTime)
        {
            errors.Add($"MaxEjectionTime ({o.MaxEjectionTime}) must not be less than BaseEjectionTime ({o.BaseEjectionTime}).");
        }

        if (o.MaxAttempts is < 1 or > 10)
        {
            errors.Add($"MaxAttempts must be from 1 to 10 (was {o.MaxAttempts}).");
        }

        // SocketsHttpHandler (and the probes' CancelAfter) take at most int.MaxValue milliseconds, about 24.8 days.
        if (o.ConnectTimeout is { } c && c != Timeout.InfiniteTimeSpan && (c <= TimeSpan.Zero || c > LongestConnectTimeout))
        {
            errors.Add($"ConnectTimeout must be more than 0 and at most {LongestConnectTimeout} (int.MaxValue milliseconds, the most SocketsHttpHandler accepts), or infinite (was {c}).");
        }

        foreach (var suffix in o.HostSuffixes)
        {
            if (string.IsNullOrWhiteSpace(suffix) || suffix.Trim('.').Length == 0)
            {
                errors.Add("HostSuffixes must not hold an empty suffix.");
            }
        }

        if (o.ServiceDiscoveryDomain is { Length: > 0 } domain && domain.Trim('.').Length == 0)
        {
            errors.Add($"ServiceDiscoveryDomain '{domain}' is not a domain name.");
        }

        ZoneOptionsRules.Check(errors, o);
        return errors;
    }

    // Capped at a week: beyond that a setting is a typo, and sums of these (TTL + MaxStale) must not overflow.
    private static readonly TimeSpan Longest = TimeSpan.FromDays(7);

    private static readonly TimeSpan LongestConnectTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    private static void Positive(List<string> errors, string name, TimeSpan value, bool allowZero)
    {
        if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero) || value > Longest)
        {
            errors.Add($"{name} must be {(allowZero ? "zero or more" : "more than zero")} and at most 7 days (was {value}).");
        }
    }
}
