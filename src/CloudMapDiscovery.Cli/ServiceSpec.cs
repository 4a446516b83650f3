using System.Globalization;

namespace CloudMapDiscovery.Cli;

/// <summary>One <c>--srv</c> value of <c>cloudmap serve</c>: PORT:TARGET or PRIORITY:WEIGHT:PORT:TARGET.</summary>
internal sealed record ServiceSpec(ushort Priority, ushort Weight, ushort Port, string Target)
{
    public static bool TryParse(string value, out ServiceSpec service)
    {
        service = null!;
        var parts = value.Split(':');
        var c = CultureInfo.InvariantCulture;
        ushort priority = 1;
        ushort weight = 1;
        ushort port;
        switch (parts.Length)
        {
            case 2 when ushort.TryParse(parts[0], NumberStyles.None, c, out port):
                break;
            case 4 when ushort.TryParse(parts[0], NumberStyles.None, c, out priority)
                && ushort.TryParse(parts[1], NumberStyles.None, c, out weight)
                && ushort.TryParse(parts[2], NumberStyles.None, c, out port):
                break;
            default:
                return false;
        }

        var target = parts[^1].Trim();
        if (target.Length == 0)
        {
            return false;
        }

        service = new ServiceSpec(priority, weight, port, target);
        return true;
    }
}
