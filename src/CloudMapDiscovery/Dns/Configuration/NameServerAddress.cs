using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>Parses name server addresses written as <c>ip</c>, <c>ip:port</c>, <c>[ipv6]</c>, <c>[ipv6]:port</c> or a bare IPv6 address.</summary>
internal static class NameServerAddress
{
    public const int DefaultPort = 53;

    public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        error = null;
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s))
        {
            error = "a name server address is empty";
            return false;
        }

        string host;
        var port = DefaultPort;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{s}' has '[' without ']'";
                return false;
            }

            host = s[1..close];
            var rest = s[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryParsePort(rest[1..], out port)))
            {
                error = $"'{s}' has a bad port (expected [ipv6]:port with a port from 1 to 65535)";
                return false;
            }
        }
        else if (s.Count(c => c == ':') == 1)
        {
            var colon = s.IndexOf(':', StringComparison.Ordinal);
            host = s[..colon];
            if (!TryParsePort(s[(colon + 1)..], out port))
            {
                error = $"'{s}' has a bad port (expected ip:port with a port from 1 to 65535)";
                return false;
            }
        }
        else
        {
            host = s;
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            error = $"'{s}' is not an IP address (name servers must be given as ip or ip:port; host names cannot be used to find the name server)";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    public static IPEndPoint Parse(string text)
        => TryParse(text, out var endPoint, out var error) ? endPoint : throw new FormatException(error);

    private static bool TryParsePort(string text, out int port)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}
