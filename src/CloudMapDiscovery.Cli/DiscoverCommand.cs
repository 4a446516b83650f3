using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CloudMapDiscovery.Api;
using CloudMapDiscovery.Api.Client;

namespace CloudMapDiscovery.Cli;

/// <summary><c>cloudmap discover NAMESPACE SERVICE</c>: one DiscoverInstances call, signed with the default AWS credentials, shown as a table or JSON.</summary>
internal static class DiscoverCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace's HTTP name, for example internal." };
        var service = new Argument<string>("service") { Description = "The service name, for example api." };
        var json = new Option<bool>("--json") { Description = "Print the reply as JSON (the API's member names) instead of a table." };
        var serviceUrl = new Option<string?>("--service-url") { Description = "Call this endpoint instead of data-servicediscovery.<region>.amazonaws.com (an emulator, PrivateLink, cloudmap serve --api-port)." };
        var region = new Option<string?>("--region") { Description = "The AWS Region. Default: AWS_REGION, else AWS_DEFAULT_REGION." };
        var health = new Option<string>("--health-status")
        {
            Description = "HEALTHY, UNHEALTHY, ALL or HEALTHY_OR_ELSE_ALL.",
            DefaultValueFactory = _ => "ALL",
        };

        var command = new Command("discover", "Call Cloud Map's DiscoverInstances (credentials from the default AWS chain) and show each instance: id, health, address, port, zone and attributes.")
        {
            ns,
            service,
            json,
            serviceUrl,
            region,
            health,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new CloudMapApiOptions { HealthStatus = parseResult.GetValue(health) ?? "ALL", ServiceUrl = parseResult.GetValue(serviceUrl) };
            if (parseResult.GetValue(region) is { Length: > 0 } r)
            {
                options.Region = r;
            }

            return await RunAsync(parseResult.GetValue(ns)!, parseResult.GetValue(service)!, options, parseResult.GetValue(json), stdout, stderr, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(string ns, string service, CloudMapApiOptions options, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Region))
        {
            await stderr.WriteLineAsync("No Region: pass --region or set AWS_REGION (requests are signed for a Region, also with --service-url).").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        if (options.ServiceUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
        {
            await stderr.WriteLineAsync($"Invalid --service-url '{url}': expected an absolute http or https URL.").ConfigureAwait(false);
            return ExitCodes.Error;
        }

        var endpoint = options.ServiceUrl is { } u ? new Uri(u) : CloudMapApiClient.DefaultEndpoint(options.Region.Trim());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var client = new CloudMapApiClient(http, endpoint, options.Region.Trim(), new AwsKeySource(null), TimeProvider.System);
        DiscoverInstancesReply reply;
        try
        {
            reply = await client.DiscoverInstancesAsync(new DiscoverQuery(ns, service, options.HealthStatus.ToUpperInvariant(), null, null, null), cancellationToken).ConfigureAwait(false);
        }
        catch (CloudMapApiException ex)
        {
            await stderr.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return ex.IsNotFound ? ExitCodes.NoRecords : ExitCodes.Error;
        }

        if (json)
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(reply, ApiJsonContext.Default.DiscoverInstancesReply)).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        var c = CultureInfo.InvariantCulture;
        await stdout.WriteLineAsync(string.Create(c, $"{service}.{ns}: {reply.Instances!.Count} instance(s), revision {reply.InstancesRevision} ({endpoint.Authority})")).ConfigureAwait(false);
        foreach (var i in reply.Instances.OrderBy(i => i.InstanceId, StringComparer.Ordinal))
        {
            var a = i.Attributes ?? [];
            var address = a.GetValueOrDefault("AWS_INSTANCE_IPV4") ?? a.GetValueOrDefault("AWS_INSTANCE_IPV6") ?? "-";
            var others = string.Join(' ', a.Where(p => p.Key is not ("AWS_INSTANCE_IPV4" or "AWS_INSTANCE_IPV6" or "AWS_INSTANCE_PORT" or "AVAILABILITY_ZONE")).Select(p => $"{p.Key}={p.Value}"));
            await stdout.WriteLineAsync($"  {i.InstanceId,-36} {i.HealthStatus,-9} {address,-15} {a.GetValueOrDefault("AWS_INSTANCE_PORT") ?? "-",-5} {a.GetValueOrDefault("AVAILABILITY_ZONE") ?? "-",-12} {others}").ConfigureAwait(false);
        }

        return reply.Instances.Count > 0 ? ExitCodes.Success : ExitCodes.NoRecords;
    }
}
