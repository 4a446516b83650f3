using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>One exchange with one server: a usable reply, or why there was none.</summary>
internal readonly record struct ExchangeResult(DnsResponse? Response, DnsTransport Transport, DnsServerAttempt? Failure)
{
    public static ExchangeResult Success(DnsResponse response, DnsTransport transport) => new(response, transport, null);

    public static ExchangeResult Failed(DnsServerAttempt failure) => new(null, failure.Transport, failure);
}
