using System.Globalization;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>Makes a set's <see cref="ZonePlan"/>: which endpoints share the caller's zone, and whether the guards let requests stay there.</summary>
/// <remarks>
/// Pure but for one write per endpoint: its <see cref="BalancedEndpoint.Locality"/>, which the balancer owns and sets
/// here, under its lock, before the set is published.
/// </remarks>
internal static class ZonePlanner
{
    public const string Local = "local";
    public const string CrossZone = "cross_zone";

    /// <summary>The plan for <paramref name="endpoints"/> seen from <paramref name="caller"/> (null: not known, with <paramref name="unknownWhy"/>).</summary>
    public static ZonePlan Plan(BalancedEndpoint[] endpoints, ZoneSettings settings, CallerLocation? caller, string unknownWhy)
    {
        var zoned = 0;
        string? owner = null;
        foreach (var e in endpoints)
        {
            e.Locality = null;
            if (e.Instance?.Zone is not null)
            {
                zoned++;
            }

            owner ??= e.Instance?.OwnerAccount;
        }

        if (zoned == 0)
        {
            return ZonePlan.None; // DNS, or instances registered without AVAILABILITY_ZONE: nothing to route by
        }

        if (caller is null)
        {
            return new ZonePlan(false, [], [], settings.MinHealthyLocal, null, unknownWhy);
        }

        // Zone names are mapped per account: across accounts only zone IDs compare.
        var byId = owner is not null;
        if (byId && (caller.ZoneId is null || endpoints.Any(e => e.Instance?.ZoneId is null)))
        {
            return new ZonePlan(false, [], [], settings.MinHealthyLocal, caller.Zone, string.Create(CultureInfo.InvariantCulture,
                $"the namespace belongs to account {owner}, where zone names may name other zones, and zone IDs are not known for {(caller.ZoneId is null ? "this process (set CloudMapDiscovery:ZoneId)" : "every instance (attribute AVAILABILITY_ZONE_ID)")}"));
        }

        var local = new List<BalancedEndpoint>();
        var remote = new List<BalancedEndpoint>();
        foreach (var e in endpoints)
        {
            var theirs = byId ? e.Instance?.ZoneId : e.Instance?.Zone;
            if (theirs is null)
            {
                remote.Add(e);
                continue;
            }

            var same = string.Equals(theirs, byId ? caller.ZoneId : caller.Zone, StringComparison.OrdinalIgnoreCase);
            e.Locality = same ? Local : CrossZone;
            (same ? local : remote).Add(e);
        }

        string? off = !settings.Enabled ? "ZoneAware is off"
            : endpoints.Length < settings.MinEndpoints ? $"{endpoints.Length} endpoint(s), fewer than ZoneMinEndpoints ({settings.MinEndpoints})"
            : local.Count < settings.MinHealthyLocal ? $"{local.Count} endpoint(s) in {caller.Zone}, fewer than ZoneMinHealthyLocal ({settings.MinHealthyLocal})"
            : null;
        return off is null
            ? new ZonePlan(true, [.. local], [.. remote], settings.MinHealthyLocal, caller.Zone, string.Create(CultureInfo.InvariantCulture, $"{local.Count} of {endpoints.Length} endpoints in {caller.Zone}"))
            : new ZonePlan(false, [], [], settings.MinHealthyLocal, caller.Zone, off);
    }
}
