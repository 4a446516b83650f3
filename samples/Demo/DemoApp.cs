using System.Diagnostics;
using System.Globalization;
using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Samples.Hello;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>
/// The one-command demo: Cloud Map (a DNS server for zone <c>internal</c>), name tasks on 127.0.0.2-.5, hello on
/// 127.0.0.1 with CloudMapDiscovery, and a client calling hello, through the acts of <see cref="DemoRun.Story"/>. Each act checks its own
/// expectation; the exit code is 0 only when all of them held.
/// </summary>
public static class DemoApp
{
    /// <summary>The demo's shorter cache floor (the library's default is 5 s) so that act 3 converges in seconds.</summary>
    public static readonly TimeSpan DemoMinTtl = TimeSpan.FromSeconds(2);

    /// <summary>The demo's shorter first ejection (default 10 s), so that ejections come and go within an act.</summary>
    public static readonly TimeSpan DemoEjection = TimeSpan.FromSeconds(3);

    /// <summary>Runs the demo.</summary>
    /// <param name="args">The command line (see <see cref="DemoOptions.Usage"/>).</param>
    /// <param name="output">Where plain lines go; <see langword="null"/> for the console, live when it is a terminal.</param>
    /// <param name="cancellationToken">Stops the demo (Ctrl+C).</param>
    /// <returns>0 when every act met its expectation, 1 when one did not, 2 on bad arguments or a start-up error.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        var console = output ?? Console.Out;
        DemoOptions options;
        try
        {
            options = DemoOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await console.WriteLineAsync(ex.Message);
            await console.WriteLineAsync(DemoOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            await console.WriteLineAsync(DemoOptions.Usage);
            return 0;
        }

        var live = output is null && !options.Plain && !Console.IsOutputRedirected
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            && AnsiConsole.Profile.Capabilities.Interactive;
        var run = new DemoRun(options, console, live);
        try
        {
            return await run.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.WriteLineAsync("Stopped.");
            return 1;
        }
    }
}
