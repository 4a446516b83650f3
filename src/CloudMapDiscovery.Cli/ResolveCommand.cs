using System.CommandLine;
using System.Globalization;
using System.Net;
using CloudMapDiscovery.Dns;

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
        var timeout = new Option<double?>("--timeout") { Description = "Seconds to wait for each reply. Default: resolv.conf's timeout, else 2." };
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
            if (!TryParseServer(server))
            {
                await stderr.WriteLineAsync($"Invalid --server '{server}': expected IP or IP:PORT, for example 127.0.0.1:5353 or [::1]:53.").ConfigureAwait(false);
                return ExitCodes.Error;
            }

            options.NameServers.Add(server);
        }

        if (request.TimeoutSeconds is { } seconds)
        {
            if (!(seconds > 0 && seconds <= 3600))
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Invalid --timeout {seconds}: expected seconds between 0 and 3600.")).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            options.Timeout = TimeSpan.FromSeconds(seconds);
        }

        if (request.Attempts is { } attempts)
        {
            if (attempts is < 1 or > 10)
            {
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Invalid --attempts {attempts}: expected 1 to 10.")).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            options.Attempts = attempts;
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

    // IPAddress also takes inet_aton shorthands ("5353" is 0.0.21.57); a typo must not send queries to a
    // random address, so IPv4 must be written out in full.
    private static bool TryParseServer(string value) =>
        IPEndPoint.TryParse(value, out var endPoint)
        && (endPoint.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || value.StartsWith(endPoint.Address.ToString() + ":", StringComparison.Ordinal)
            || value == endPoint.Address.ToString());

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
