using System.Globalization;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>The demo's command line.</summary>
public sealed class DemoOptions
{
    /// <summary>Gets or sets a value indicating whether everything stays up after the story, for curl.</summary>
    public bool KeepRunning { get; set; }

    /// <summary>Gets or sets a value indicating whether to print plain lines even on a terminal.</summary>
    public bool Plain { get; set; }

    /// <summary>Gets or sets hello's port on 127.0.0.1; 3000 by default, a free one if busy; 0 always picks a free one.</summary>
    public int HelloPort { get; set; } = 3000;

    /// <summary>Gets or sets the port the name tasks share on 127.0.0.2-5; 3000 by default, a free one if busy.</summary>
    public int NamePort { get; set; } = 3000;

    /// <summary>Gets or sets the DNS server's port on 127.0.0.1; 5353 by default, a free one if busy.</summary>
    public int DnsPort { get; set; } = 5353;

    /// <summary>Gets or sets a value indicating whether only the usage was asked for.</summary>
    public bool Help { get; set; }

    /// <summary>The usage text.</summary>
    public const string Usage = """
        Usage: dotnet run --project samples/Demo [-- options]

        Plays the hello/name story of the AWS Cloud Map pattern on loopback, with CloudMapDiscovery on the client side:
        a DNS server for zone 'internal', name tasks on 127.0.0.2-.5, hello on 127.0.0.1, and a client calling hello;
        then a second hello finds 12 name tasks (127.0.0.10-.21) through the Cloud Map API's in-process fake.
        Exits 0 when every act met its expectation, 1 otherwise.

        Options:
          --keep-running     leave DNS, name and hello up after the story (Ctrl+C to stop), for curl
          --plain            plain lines even on a terminal (the default without one, or with CI=true)
          --hello-port N     hello's port on 127.0.0.1 (default 3000; a free port if busy; 0 = any free port)
          --name-port N      the name tasks' shared port (default 3000; a free port if busy; 0 = any free port)
          --dns-port N       the DNS server's port on 127.0.0.1 (default 5353; a free port if busy; 0 = any)
          -h, --help         this text
        """;

    /// <summary>Parses the arguments.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static DemoOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new DemoOptions();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--keep-running":
                    options.KeepRunning = true;
                    break;
                case "--plain":
                    options.Plain = true;
                    break;
                case "--hello-port":
                    options.HelloPort = Port(args, ++i);
                    break;
                case "--name-port":
                    options.NamePort = Port(args, ++i);
                    break;
                case "--dns-port":
                    options.DnsPort = Port(args, ++i);
                    break;
                case "-h" or "--help":
                    options.Help = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        return options;
    }

    private static int Port(IReadOnlyList<string> args, int i)
    {
        if (i >= args.Count || !int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"{args[i - 1]} needs a port number from 0 to 65535.");
        }

        return port;
    }
}
