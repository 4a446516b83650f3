using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>Parses a name server written as dotted-quad IPv4 or IPv6, with an optional port: <c>ip</c>, <c>ip:port</c>, <c>[ipv6]</c>, <c>[ipv6]:port</c> or a bare IPv6 address.</summary>
/// <remarks>
/// <see cref="IPAddress.TryParse(string, out IPAddress)"/> also takes inet_aton shorthands (<c>5353</c> is 0.0.21.57,
/// <c>127.1</c> is 127.0.0.1, <c>010.0.0.1</c> is octal): a typo must not send every query to some other address, so
/// IPv4 must be four decimal numbers. The library's options, the resolver's options and the command line all parse
/// name servers here.
/// </remarks>
internal static class NameServerAddress
{
    public const int DefaultPort = 53;

    private const string Expected = "expected a dotted-quad IPv4 or an IPv6 address, with an optional port from 1 to 65535: ip, ip:port, [ipv6] or [ipv6]:port";

    public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        error = null;
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s))
        {
            error = $"a name server address is empty ({Expected})";
            return false;
        }

        var port = DefaultPort;
        IPAddress? address;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{s}' has '[' without ']' ({Expected})";
                return false;
            }

            var rest = s[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryParsePort(rest[1..], out port)))
            {
                error = $"'{s}' has a bad port (expected [ipv6]:port with a port from 1 to 65535)";
                return false;
            }

            address = ParseIPv6(s[1..close]);
        }
        else if (s.Count(c => c == ':') == 1)
        {
            var colon = s.IndexOf(':', StringComparison.Ordinal);
            if (!TryParsePort(s[(colon + 1)..], out port))
            {
                error = $"'{s}' has a bad port (expected ip:port with a port from 1 to 65535)";
                return false;
            }

            address = ParseIPv4(s[..colon]);
        }
        else
        {
            address = s.Contains(':', StringComparison.Ordinal) ? ParseIPv6(s) : ParseIPv4(s);
        }

        if (address is null)
        {
            error = $"'{s}' is not a name server address ({Expected}; host names cannot be used to find the name server)";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    public static IPEndPoint Parse(string text)
        => TryParse(text, out var endPoint, out var error) ? endPoint : throw new FormatException(error);

    private static IPAddress? ParseIPv6(string text)
        => IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? address : null;

    // Four decimal numbers from 0 to 255, without leading zeros (which inet_aton reads as octal).
    private static IPAddress? ParseIPv4(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }

        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
            {
                return null;
            }
        }

        return new IPAddress(bytes);
    }

    private static bool TryParsePort(string text, out int port)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}
