using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Discovery;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing;

/// <summary>Diagnostic snapshots of services: their resolution state, and each endpoint's health when a balancer keeps it.</summary>
internal static class ServiceSnapshots
{
    /// <summary>A snapshot of <paramref name="service"/>; with no balancer (a resolution-only consumer) every endpoint shows as healthy and unpicked.</summary>
    public static ServiceSnapshot Take(DiscoveredService service, ServiceBalancer? balancer, CloudMapContext context)
    {
        var clock = context.Clock;
        var coarseNow = context.CoarseNow();
        var tau = context.ToCoarseTicks(PeakEwmaPolicy.Decay);
        var now = clock.GetTimestamp();
        var utcNow = clock.GetUtcNow();
        var status = service.Status;
        var set = status.Current;
        DateTimeOffset? At(long ts) => ts == 0 ? null : utcNow + clock.GetElapsedTime(now, ts);

        var zones = balancer?.Current.Zones;
        EndpointSnapshot[] endpoints;
        if (balancer is not null && set is not null)
        {
            endpoints = [.. balancer.Current.Endpoints.Select(e =>
            {
                var state = StateOf(e, now);
                return new EndpointSnapshot(
                    e.Address.Address.ToString(),
                    e.Address.Port,
                    state,
                    e.ConsecutiveFailures,
                    state == EndpointState.Ejected ? At(e.EjectedUntil) : null,
                    e.Picks,
                    e.IsMerged)
                {
                    InFlight = Math.Max(0, e.Load.InFlight),
                    LatencyEstimate = e.Load.HasEstimate ? TimeSpan.FromMilliseconds(e.Load.Estimate(coarseNow, tau)) : null,
                    EjectionReason = e.Reason == EjectionReason.None ? null : e.Reason.Tag(),
                    AwaitingTrial = e.TrialOffered,
                    InstanceId = e.Instance?.Id,
                    Attributes = e.Instance?.Attributes,
                    Zone = e.Instance?.Zone,
                    Locality = e.Locality,
                };
            })];
        }
        else
        {
            endpoints = [.. (set?.Endpoints ?? []).Select(e =>
                new EndpointSnapshot(e.Address.Address.ToString(), e.Address.Port, EndpointState.Healthy, 0, null, 0, e.IsMerged) { InstanceId = e.Instance?.Id, Attributes = e.Instance?.Attributes, Zone = e.Instance?.Zone })];
        }

        return new ServiceSnapshot(
            service.Key.Host,
            service.Key.RecordTypes,
            endpoints,
            set?.Ttl,
            At(status.LastRefresh),
            At(status.UsableUntil),
            status.IsStale,
            set?.NegativeReason,
            status.LastError?.Message)
        {
            CallerZone = zones?.CallerZone,
            ZoneRouting = zones?.Active ?? false,
            ZoneRoutingReason = zones?.Reason,
            RequestPort = balancer?.Port,
        };
    }

    // Ejected while its ejection runs; probing once a probe is due or running (a new address is due at once).
    private static EndpointState StateOf(BalancedEndpoint e, long now)
        => e.IsEjectedAt(now) ? EndpointState.Ejected : e.AwaitingProbe ? EndpointState.Probing : EndpointState.Healthy;
}
