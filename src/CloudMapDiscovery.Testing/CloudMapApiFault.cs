namespace CloudMapDiscovery.Testing;

/// <summary>What a <see cref="CloudMapApiFault"/> does to a call.</summary>
public enum CloudMapApiFaultKind
{
    /// <summary>HTTP 400 with the error type <c>RequestLimitExceeded</c> (the model's throttling error).</summary>
    RequestLimitExceeded,

    /// <summary>HTTP 400 with the error type <c>ThrottlingException</c> (AWS's generic throttling error).</summary>
    Throttling,

    /// <summary>HTTP 500 with the error type <c>InternalFailure</c>.</summary>
    InternalFailure,

    /// <summary>HTTP 503 with the error type <c>ServiceUnavailable</c>.</summary>
    ServiceUnavailable,

    /// <summary>The answer, held back for <see cref="CloudMapApiFault.Delay"/> on the server's clock.</summary>
    Delay,

    /// <summary>HTTP 200 whose body is cut off in the middle of the JSON.</summary>
    MalformedBody,

    /// <summary>HTTP 400 whose body names no error type.</summary>
    ErrorWithoutType,
}

/// <summary>A misbehaviour of <see cref="CloudMapApiTestServer"/>, injected with <see cref="CloudMapApiTestServer.InjectFault"/>.</summary>
/// <remarks>Immutable; create one with the constructor and an object initializer.</remarks>
/// <param name="kind">What the fault does.</param>
public sealed class CloudMapApiFault(CloudMapApiFaultKind kind)
{
    /// <summary>Gets what the fault does.</summary>
    public CloudMapApiFaultKind Kind { get; } = kind;

    /// <summary>Gets the operation it applies to (<c>DiscoverInstances</c> or <c>DiscoverInstancesRevision</c>), or <see langword="null"/> for both.</summary>
    public string? Operation { get; init; }

    /// <summary>Gets how many calls it applies to; <see langword="null"/> for every call until <see cref="CloudMapApiTestServer.ClearFaults"/>.</summary>
    public int? Count { get; init; }

    /// <summary>Gets how long a <see cref="CloudMapApiFaultKind.Delay"/> fault holds the answer back.</summary>
    public TimeSpan Delay { get; init; }
}
