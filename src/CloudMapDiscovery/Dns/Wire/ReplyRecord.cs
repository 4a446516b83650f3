namespace CloudMapDiscovery.Dns.Wire;

/// <summary>A record of a reply that can matter to the question, with its owner name and, for a CNAME or SRV record, its target.</summary>
internal readonly record struct ReplyRecord(DnsRecordHeader Header, string Owner, string? Target);
