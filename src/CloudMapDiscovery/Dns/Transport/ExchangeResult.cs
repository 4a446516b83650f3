using CloudMapDiscovery.Dns.Wire;

namespace CloudMapDiscovery.Dns.Transport;

/// <summary>One exchange with one server: a usable reply, or why there was none.</summary>
internal readonly struct ExchangeResult
{
    private ExchangeResult(DnsResponse? response, DnsTransport transport, DnsServerAttempt? failure)
    {
        Response = response;
        Transport = transport;
        Failure = failure;
    }

    public DnsResponse? Response { get; }

    public DnsTransport Transport { get; }

    public DnsServerAttempt? Failure { get; }

    public static ExchangeResult Success(DnsResponse response, DnsTransport transport) => new(response, transport, null);

    public static ExchangeResult Failed(DnsServerAttempt failure) => new(null, failure.Transport, failure);
}
