namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>Whether and when requests stay in the caller's Availability Zone (see <see cref="CloudMapDiscoveryOptions.ZoneAware"/> for each reason).</summary>
/// <param name="Enabled">Zone-aware routing is wanted (it still needs both zones known and the guards passed).</param>
/// <param name="Zone">The caller's zone as configured; it wins over detection.</param>
/// <param name="ZoneId">The caller's zone ID as configured (for namespaces another account owns).</param>
/// <param name="MinEndpoints">The minimum-size guard: fewer endpoints in the set and every zone is used.</param>
/// <param name="MinHealthyLocal">Requests stay local while the caller's zone has at least this many available endpoints.</param>
internal sealed record ZoneSettings(bool Enabled, string? Zone, string? ZoneId, int MinEndpoints, int MinHealthyLocal)
{
    /// <summary>Zone-aware routing off (settings built by hand, as in tests of other concerns).</summary>
    public static readonly ZoneSettings Off = new(false, null, null, 6, 2);

    /// <summary>The configured location, if a zone is configured.</summary>
    public CallerLocation? Configured => string.IsNullOrWhiteSpace(Zone) ? null : new CallerLocation(Zone.Trim(), string.IsNullOrWhiteSpace(ZoneId) ? null : ZoneId.Trim(), "configuration");
}
