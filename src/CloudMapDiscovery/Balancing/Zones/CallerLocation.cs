namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>Where the calling process runs: its Availability Zone, the zone's ID where known, and who said so.</summary>
/// <remarks>
/// Zone names (<c>eu-west-1a</c>) are mapped per account; zone IDs (<c>euw1-az1</c>) name the same place in every
/// account, so only they compare across accounts.
/// </remarks>
/// <param name="Zone">The zone's name.</param>
/// <param name="ZoneId">The zone's ID, or <see langword="null"/> when the source did not give it.</param>
/// <param name="Source">Who answered: <c>configuration</c>, <c>ecs-task-metadata</c> or <c>ec2-imds</c>.</param>
internal sealed record CallerLocation(string Zone, string? ZoneId, string Source);
