using System.Globalization;
using CloudMapDiscovery.Api.Client;

namespace CloudMapDiscovery.Api.Source;

/// <summary>The API source's settings, resolved once from <see cref="CloudMapApiOptions"/>: equal settings share one source.</summary>
/// <remarks>The attribute filters compare by content (<see cref="Identity"/>), not by dictionary reference.</remarks>
internal sealed record ApiSettings(
    string Region,
    Uri Endpoint,
    string HealthStatus,
    IReadOnlyDictionary<string, string> QueryParameters,
    IReadOnlyDictionary<string, string> OptionalParameters,
    string? OwnerAccount,
    TimeSpan HealthRefreshInterval,
    TimeSpan Timeout)
{
    /// <summary>Everything that tells two settings apart, as one text.</summary>
    public string Identity => string.Create(CultureInfo.InvariantCulture,
        $"{Region}|{Endpoint}|{HealthStatus}|{Text(QueryParameters)}|{Text(OptionalParameters)}|{OwnerAccount}|{HealthRefreshInterval.Ticks}|{Timeout.Ticks}");

    public static ApiSettings From(CloudMapApiOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var region = o.Region!.Trim();
        var endpoint = string.IsNullOrWhiteSpace(o.ServiceUrl) ? CloudMapApiClient.DefaultEndpoint(region) : new Uri(o.ServiceUrl, UriKind.Absolute);
        return new(region, endpoint, o.HealthStatus.Trim().ToUpperInvariant(),
            new SortedDictionary<string, string>(o.QueryParameters, StringComparer.Ordinal),
            new SortedDictionary<string, string>(o.OptionalParameters, StringComparer.Ordinal),
            string.IsNullOrWhiteSpace(o.OwnerAccount) ? null : o.OwnerAccount.Trim(),
            o.HealthRefreshInterval, o.Timeout);
    }

    public DiscoverQuery Query(string namespaceName, string serviceName)
        => new(namespaceName, serviceName, HealthStatus, QueryParameters, OptionalParameters, OwnerAccount);

    public bool Equals(ApiSettings? other) => other is not null && Identity == other.Identity;

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Identity);

    private static string Text(IReadOnlyDictionary<string, string> map) => string.Join(';', map.Select(p => $"{p.Key}={p.Value}"));
}
