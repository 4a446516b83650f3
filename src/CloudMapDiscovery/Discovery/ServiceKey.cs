namespace CloudMapDiscovery.Discovery;

/// <summary>A cache key: the host name (lower case) and which records name its endpoints.</summary>
internal readonly record struct ServiceKey(string Host, DiscoveryRecordTypes RecordTypes)
{
    public override string ToString() => RecordTypes == DiscoveryRecordTypes.A ? Host : $"{Host} ({RecordTypes})";
}
