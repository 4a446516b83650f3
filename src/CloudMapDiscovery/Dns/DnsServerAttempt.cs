using System.Net;

namespace CloudMapDiscovery.Dns;

/// <summary>One failed exchange with one name server, kept so that an error can say what was tried.</summary>
/// <param name="Server">The name server.</param>
/// <param name="Transport">UDP, or TCP after truncation.</param>
/// <param name="Outcome">What went wrong.</param>
/// <param name="Detail">A short human-readable detail (the socket error, the parse error, the response code).</param>
public sealed record DnsServerAttempt(IPEndPoint Server, DnsTransport Transport, DnsAttemptOutcome Outcome, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => $"{Server} ({Transport.ToString().ToUpperInvariant()}): {Detail}";
}
