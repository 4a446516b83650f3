using System.CommandLine;

namespace CloudMapDiscovery.Cli;

/// <summary>The command tree, separate from <see cref="Program"/> so that tests run it in-process with their own writers.</summary>
internal static class CliApp
{
    /// <summary>Parses and runs a command line.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="cancellationToken">Stops <c>serve</c> and cancels <c>resolve</c>.</param>
    /// <returns>The exit code; see <see cref="ExitCodes"/>.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var root = new RootCommand("See what the CloudMapDiscovery resolver sees, serve a local Cloud Map-like DNS zone (and API), and discover instances through the Cloud Map API.")
        {
            ResolveCommand.Create(stdout, stderr),
            ServeCommand.Create(stdout, stderr),
            DiscoverCommand.Create(stdout, stderr),
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // System.CommandLine exits 1 on parse errors; 1 here means "no records", so bad usage is 2.
            foreach (var error in parseResult.Errors)
            {
                await stderr.WriteLineAsync(error.Message).ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'cloudmap --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        var configuration = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,

            // Program wires Ctrl+C into the token; tests must not have the library hook process signals.
            ProcessTerminationTimeout = null,
        };
        return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }
}
