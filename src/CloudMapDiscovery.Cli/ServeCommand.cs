using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Testing;

namespace CloudMapDiscovery.Cli;

/// <summary><c>cloudmap serve</c>: a <see cref="DnsTestServer"/> on the command line, for trying clients against a local Cloud Map-like zone.</summary>
internal static class ServeCommand
{
    /// <summary>
    /// The default port: unprivileged, not mDNS's 5353 (held by Avahi or mDNSResponder on many laptops), and
    /// below the ephemeral port ranges of Linux (32768+) and Windows (49152+) so that no client socket holds it.
    /// </summary>
    public const int DefaultPort = 15353;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var zone = new Option<string>("--zone", "-z")
        {
            Description = "The zone (Cloud Map namespace) to serve.",
            DefaultValueFactory = _ => "internal",
        };
        var address = new Option<string>("--address", "-a")
        {
            Description = "The address to listen on.",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var port = new Option<int>("--port", "-p")
        {
            Description = "The port for UDP and TCP (0 picks a free one). Not 5353 by default: mDNS holds it on many machines.",
            DefaultValueFactory = _ => DefaultPort,
        };
        var records = new Option<string[]>("--record", "-r")
        {
            Description = "A/AAAA records as NAME=IP[,IP...], for example name=10.0.0.1,10.0.0.2; repeatable.",
        };
        var services = new Option<string[]>("--srv")
        {
            Description = "SRV records as NAME=PORT:TARGET or NAME=PRIORITY:WEIGHT:PORT:TARGET (comma-separate several); priority and weight default to 1 like Cloud Map; repeatable.",
        };
        var ttl = new Option<int>("--ttl")
        {
            Description = "The TTL of every record, in seconds.",
            DefaultValueFactory = _ => 10,
        };
        var negativeTtl = new Option<int>("--negative-ttl")
        {
            Description = "The SOA negative-caching TTL, in seconds (Cloud Map: 900).",
            DefaultValueFactory = _ => 900,
        };
        var maxAnswers = new Option<int?>("--max-answers")
        {
            Description = "Answer with at most this many records, a random subset (8 emulates Route 53 MULTIVALUE).",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print each query." };
        var apiPort = new Option<int?>("--api-port") { Description = "Also serve the zone as Cloud Map instances through DiscoverInstances on this TCP port (0: a free one), for AWS SDKs with an endpoint override." };

        var command = new Command("serve", "Serve a Cloud Map-like DNS zone on UDP and TCP until Ctrl+C.")
        {
            zone,
            address,
            port,
            records,
            services,
            ttl,
            negativeTtl,
            maxAnswers,
            quiet,
            apiPort,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var request = new ServeRequest(
                parseResult.GetValue(zone)!,
                parseResult.GetValue(address)!,
                parseResult.GetValue(port),
                parseResult.GetValue(records) ?? [],
                parseResult.GetValue(services) ?? [],
                parseResult.GetValue(ttl),
                parseResult.GetValue(negativeTtl),
                parseResult.GetValue(maxAnswers),
                parseResult.GetValue(quiet),
                parseResult.GetValue(apiPort));
            return await RunAsync(request, stdout, stderr, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServeRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        var problems = Validate(request, out var listenAddress, out var addressRecords, out var serviceRecords);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await stderr.WriteLineAsync(problem).ConfigureAwait(false);
            }

            return ExitCodes.Error;
        }

        // Queries are logged from the server's socket threads while this method writes too.
        var output = TextWriter.Synchronized(stdout);
        var options = new DnsTestServerOptions
        {
            Zone = request.Zone,
            Address = listenAddress!,
            Port = request.Port,
            Logger = request.Quiet ? null : new TextWriterLogger(output),
        };

        DnsTestServer server;
        try
        {
            server = await DnsTestServer.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            await stderr.WriteLineAsync($"Cannot serve {request.Zone} on {request.Address}:{request.Port}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Success;
        }

        await using (server.ConfigureAwait(false))
        {
            var ttl = TimeSpan.FromSeconds(request.TtlSeconds);
            server.NegativeTtl = TimeSpan.FromSeconds(request.NegativeTtlSeconds);
            server.MaxAnswerRecords = request.MaxAnswers;
            try
            {
                foreach (var (name, ip) in addressRecords)
                {
                    server.AddAddress(name, ip, ttl);
                }

                foreach (var (name, service) in serviceRecords)
                {
                    server.AddService(name, service.Priority, service.Weight, service.Port, service.Target, ttl);
                }
            }
            catch (ArgumentException ex)
            {
                await stderr.WriteLineAsync(ex.Message).ConfigureAwait(false);
                return ExitCodes.Error;
            }

            output.WriteLine($"Serving zone {server.Zone} on {server.EndPoint} (UDP and TCP):");
            output.Write(server.ExportZone());
            await using var api = request.ApiPort is { } apiPort
                ? ServeApi.Start(server.Zone, listenAddress!, apiPort, addressRecords, [.. serviceRecords.Select(s => (s.Name, s.Service.Port, s.Service.Target))])
                : null;
            if (api is not null)
            {
                output.WriteLine($"Serving its names as Cloud Map instances (namespace {server.Zone}) at {api.ServiceUrl} (DiscoverInstances, DiscoverInstancesRevision).");
            }

            output.WriteLine("Press Ctrl+C to stop.");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: the normal way out.
            }

            await server.StopAsync().ConfigureAwait(false);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Stopped after {server.QueryCount} queries."));
            output.Flush();
        }

        return ExitCodes.Success;
    }

    private static List<string> Validate(
        ServeRequest request,
        out IPAddress? listenAddress,
        out List<(string Name, IPAddress Address)> addressRecords,
        out List<(string Name, ServiceSpec Service)> serviceRecords)
    {
        var problems = new List<string>();
        addressRecords = [];
        serviceRecords = [];
        if (!IPAddress.TryParse(request.Address, out listenAddress))
        {
            problems.Add($"Invalid --address '{request.Address}': expected an IP address such as 127.0.0.1.");
        }

        if (request.Port is < 0 or > ushort.MaxValue)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Invalid --port {request.Port}: expected 0 to 65535."));
        }

        if (request.TtlSeconds < 0 || request.NegativeTtlSeconds < 0)
        {
            problems.Add("--ttl and --negative-ttl must not be negative.");
        }

        if (request.ApiPort is < 0 or > ushort.MaxValue)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"Invalid --api-port {request.ApiPort}: expected 0 to 65535."));
        }

        if (request.MaxAnswers is < 1)
        {
            problems.Add("--max-answers must be at least 1.");
        }

        foreach (var spec in request.Records)
        {
            if (!TrySplit(spec, out var name, out var values))
            {
                problems.Add($"Invalid --record '{spec}': expected NAME=IP[,IP...].");
                continue;
            }

            foreach (var value in values)
            {
                if (IPAddress.TryParse(value, out var ip))
                {
                    addressRecords.Add((name, ip));
                }
                else
                {
                    problems.Add($"Invalid --record '{spec}': '{value}' is not an IP address.");
                }
            }
        }

        foreach (var spec in request.Services)
        {
            if (!TrySplit(spec, out var name, out var values))
            {
                problems.Add($"Invalid --srv '{spec}': expected NAME=PORT:TARGET or NAME=PRIORITY:WEIGHT:PORT:TARGET.");
                continue;
            }

            foreach (var value in values)
            {
                if (ServiceSpec.TryParse(value, out var service))
                {
                    serviceRecords.Add((name, service));
                }
                else
                {
                    problems.Add($"Invalid --srv '{spec}': '{value}' is not PORT:TARGET or PRIORITY:WEIGHT:PORT:TARGET.");
                }
            }
        }

        return problems;
    }

    private static bool TrySplit(string spec, out string name, out string[] values)
    {
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        name = equals > 0 ? spec[..equals].Trim() : string.Empty;
        values = equals > 0 ? spec[(equals + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        return name.Length > 0 && values.Length > 0;
    }

    private sealed record ServeRequest(
        string Zone,
        string Address,
        int Port,
        string[] Records,
        string[] Services,
        int TtlSeconds,
        int NegativeTtlSeconds,
        int? MaxAnswers,
        bool Quiet,
        int? ApiPort);
}
