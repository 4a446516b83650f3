namespace CloudMapDiscovery.Dns;

/// <summary>How one public lookup ended, for the library's metrics: its answer or failure, and how long it took either way.</summary>
internal readonly record struct DnsQueryOutcome(DnsRecordType Type, DnsQueryResult? Result, DnsResolutionException? Error, TimeSpan Elapsed);
