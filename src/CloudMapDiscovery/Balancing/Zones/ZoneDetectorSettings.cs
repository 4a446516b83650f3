namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>Where the caller's zone is asked for, and how long each ask may take.</summary>
/// <remarks>
/// Internal so that tests point it at loopback servers; the defaults are the ECS agent's variable and the EC2
/// instance metadata service's link-local address.
/// </remarks>
/// <param name="EcsMetadataUri">The ECS task metadata endpoint (v4), or <see langword="null"/> when the process is not an ECS task.</param>
/// <param name="ImdsBase">The EC2 instance metadata service, or <see langword="null"/> not to ask it.</param>
/// <param name="Timeout">The bound of each ask (connect and reply together).</param>
internal sealed record ZoneDetectorSettings(string? EcsMetadataUri, Uri? ImdsBase, TimeSpan Timeout)
{
    /// <summary>The environment variable the ECS agent sets to the task metadata endpoint (v4).</summary>
    public const string EcsMetadataVariable = "ECS_CONTAINER_METADATA_URI_V4";

    /// <summary>The variable AWS SDKs read to leave the instance metadata service alone; <c>true</c> does here too.</summary>
    public const string ImdsDisabledVariable = "AWS_EC2_METADATA_DISABLED";

    /// <summary>What a process reads by default: the ECS variable, then IMDSv2 at 169.254.169.254 (unless disabled), 1 s per ask.</summary>
    /// <remarks>
    /// 1 s: both endpoints are local to the host and answer in milliseconds; a process that is neither an ECS task
    /// nor an EC2 instance (a laptop, CI) finds out within a few seconds, in the background, without a request waiting.
    /// </remarks>
    public static ZoneDetectorSettings Default() => new(
        Environment.GetEnvironmentVariable(EcsMetadataVariable),
        string.Equals(Environment.GetEnvironmentVariable(ImdsDisabledVariable), "true", StringComparison.OrdinalIgnoreCase) ? null : new Uri("http://169.254.169.254/"),
        TimeSpan.FromSeconds(1));
}
