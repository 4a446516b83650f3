using System.CommandLine;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Configuration;

namespace CloudMapDiscovery.Cli;

/// <summary><c>cloudmap resolve NAME</c>: one question through the library's resolver, shown as a table or JSON.</summary>
internal static class ResolveCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var name = new Argument<string>("name") { Description = "The name to look up, for example name.internal." };
        var type = new Option<string>("--type", "-t")
        {
            Description = "The record type: A, AAAA or SRV.",
            DefaultValueFactory = _ => "A",
        };
        var servers = new Option<string[]>("--server", "-s")
        {
            Description = "A name server as IP or IP:PORT ([IPv6]:PORT); repeat for several. Default: /etc/resolv.conf.",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var timeout = new Option<double?>("--timeout") { Description = "Seconds to wait for each reply, at most 60. Default: resolv.conf's timeout, else 2." };
        var attempts = new Option<int?>("--attempts") { Description = "Tries per server. Default: resolv.conf's attempts, else 2." };

        var command = new Command("resolve", "Resolve a name the way CloudMapDiscovery does: TTLs, SRV targets, CNAME chains, and which server answered over which transport.")
        {
            name,
            type,
            servers,
            json,
            timeout,
            attempts,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var request = new ResolveRequest(
                parseResult.GetValue(name)!,
                parseResult.GetValue(type) ?? "A",
                parseResult.GetValue(servers) ?? [],
                parseResult.GetValue(json),
                parseResult.GetValue(timeout),
                parseResult.GetValue(attempts));
            return await RunAsync(request, stdout, stderr, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ResolveRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        // System.CommandLine takes an unknown option for the name; asking DNS for "--sever" helps nobody.
        if (request.Name.StartsWith('-'))
        {
            await stderr.WriteLineAsync($"Unrecognized option '{request.Name}'. Run 'cloudmap resolve --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        if (!TryParseType(request.Type, out var recordType))
        {
            await stderr.WriteLineAsync($"Unknown record type '{request.Type}': use A, AAAA or SRV.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        var options = new DnsResolverOptions();
        foreach (var server in request.Servers)
        {
            options.NameServers.Add(server);
        }

        // The library's own rules, under the command line's option names: the same values pass, in the same words.
        options.Timeout = request.TimeoutSeconds is { } seconds ? Seconds(seconds) : null;
        options.Attempts = request.Attempts;
        var errors = new List<string>();
        ResolverSettings.CheckNameServers(errors, "--server", options.NameServers);
        ResolverSettings.CheckTimeout(errors, "--timeout", options.Timeout);
        ResolverSettings.CheckAttempts(errors, "--attempts", options.Attempts);
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await stderr.WriteLineAsync(error).ConfigureAwait(false);
            }

            return ExitCodes.Error;
        }

        DnsQueryResult result;
        try
        {
            var resolver = new DnsResolver(options);
            result = await resolver.QueryAsync(request.Name, recordType, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DnsResolutionException or ArgumentException)
        {
            await stderr.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("Cancelled.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        if (request.Json)
        {
            await stdout.WriteLineAsync(ResultFormatter.ToJson(result)).ConfigureAwait(false);
        }
        else
        {
            await stdout.WriteAsync(ResultFormatter.ToTable(result)).ConfigureAwait(false);
        }

        return result.IsNegative ? ExitCodes.NoRecords : ExitCodes.Success;
    }

    // Seconds past what a TimeSpan holds (or NaN) are out of range all the same, and say so through the rule.
    private static TimeSpan Seconds(double seconds)
        => double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.MaxValue;

    private static bool TryParseType(string value, out DnsRecordType type)
    {
        type = value.ToUpperInvariant() switch
        {
            "A" => DnsRecordType.A,
            "AAAA" => DnsRecordType.AAAA,
            "SRV" => DnsRecordType.SRV,
            _ => 0,
        };
        return type != 0;
    }

    private sealed record ResolveRequest(string Name, string Type, string[] Servers, bool Json, double? TimeoutSeconds, int? Attempts);
}
