namespace CloudMapDiscovery.Http;

/// <summary>One client's HTTP behaviour: which hosts it discovers and how, and how a request is retried.</summary>
internal sealed record HttpSettings(
    DiscoveryRecordTypes RecordTypes,
    int MaxAttempts,
    ValueArray<string> HostSuffixes,
    string? ServiceDiscoveryDomain);
