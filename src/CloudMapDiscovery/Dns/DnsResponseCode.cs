namespace CloudMapDiscovery.Dns;

/// <summary>The RCODE of a DNS reply (RFC 1035 section 4.1.1, RFC 6895).</summary>
public enum DnsResponseCode : ushort
{
    /// <summary>No error; the reply may still hold no records of the asked type (NODATA).</summary>
    NoError = 0,

    /// <summary>The server could not interpret the query.</summary>
    FormErr = 1,

    /// <summary>The server failed to process the query (often: its upstream failed).</summary>
    ServFail = 2,

    /// <summary>The name does not exist (for Cloud Map: no instances registered, or no such service).</summary>
    NXDomain = 3,

    /// <summary>The server does not support this kind of query.</summary>
    NotImp = 4,

    /// <summary>The server refuses to answer (policy).</summary>
    Refused = 5,

    /// <summary>A name exists when it should not (dynamic update).</summary>
    YXDomain = 6,

    /// <summary>A record set exists when it should not (dynamic update).</summary>
    YXRRSet = 7,

    /// <summary>A record set that should exist does not (dynamic update).</summary>
    NXRRSet = 8,

    /// <summary>The server is not authoritative for the zone.</summary>
    NotAuth = 9,

    /// <summary>A name is not within the zone.</summary>
    NotZone = 10,
}
