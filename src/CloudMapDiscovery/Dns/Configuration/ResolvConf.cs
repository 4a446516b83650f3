using System.Globalization;
using System.Net;

namespace CloudMapDiscovery.Dns.Configuration;

/// <summary>The parts of resolv.conf(5) the resolver uses.</summary>
/// <remarks>Unknown lines and options are ignored, as glibc does.</remarks>
internal sealed class ResolvConf
{
    public List<IPEndPoint> NameServers { get; } = [];

    public List<string> SearchDomains { get; } = [];

    public int? Ndots { get; private set; }

    public TimeSpan? Timeout { get; private set; }

    public int? Attempts { get; private set; }

    public bool? Rotate { get; private set; }

    public static ResolvConf Load(string path)
    {
        try
        {
            return File.Exists(path) ? Parse(File.ReadAllText(path)) : new ResolvConf();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An unreadable file is the same as none; the resolver then reports that it has no name server.
            return new ResolvConf();
        }
    }

    public static ResolvConf Parse(string text)
    {
        var conf = new ResolvConf();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine;
            var comment = line.IndexOfAny(['#', ';']);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            var words = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2)
            {
                continue;
            }

            switch (words[0])
            {
                case "nameserver":
                    // resolv.conf gives bare addresses; a port is not part of its syntax.
                    if (IPAddress.TryParse(words[1], out var address))
                    {
                        conf.NameServers.Add(new IPEndPoint(address, NameServerAddress.DefaultPort));
                    }

                    break;
                case "search":
                case "domain":
                    // The last search/domain line wins, as in glibc.
                    conf.SearchDomains.Clear();
                    conf.SearchDomains.AddRange(words.Skip(1).Select(d => d.TrimEnd('.')).Where(d => d.Length > 0));
                    break;
                case "options":
                    foreach (var option in words.Skip(1))
                    {
                        conf.ApplyOption(option);
                    }

                    break;
            }
        }

        return conf;
    }

    private void ApplyOption(string option)
    {
        var colon = option.IndexOf(':', StringComparison.Ordinal);
        var key = colon < 0 ? option : option[..colon];
        int? value = colon >= 0 && int.TryParse(option[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        switch (key)
        {
            case "ndots" when value is not null:
                Ndots = Math.Min(value.Value, 15);
                break;
            case "timeout" when value is not null:
                Timeout = TimeSpan.FromSeconds(Math.Clamp(value.Value, 1, 30));
                break;
            case "attempts" when value is not null:
                Attempts = Math.Clamp(value.Value, 1, 5);
                break;
            case "rotate":
                Rotate = true;
                break;
        }
    }
}
