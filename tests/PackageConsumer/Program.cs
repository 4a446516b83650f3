// A stranger's app, built from the packages alone: the Testing package's DNS server serves name.internal with three
// loopback tasks (real Kestrel servers on 127.0.0.2-4, one port), and an HttpClient with AddCloudMapDiscovery(),
// whose options come from configuration, must find all three and spread requests over them in turn.
// Exit code 0 when every check holds, 1 otherwise (each failed check is printed).
using System.Net;
using System.Reflection;
using CloudMapDiscovery;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const int Requests = 30;
var minTtl = TimeSpan.FromSeconds(2);
string[] taskIps = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
var failures = new List<string>();
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));

var library = typeof(CloudMapDiscoveryOptions).Assembly;
Console.WriteLine($"CloudMapDiscovery {library.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion} from {library.Location}");

await using var dns = await DnsTestServer.StartAsync("internal", IPAddress.Loopback, cancellationToken: deadline.Token);
var tasks = new List<WebApplication>();
var port = 0;
try
{
    foreach (var ip in taskIps)
    {
        var task = await StartTaskAsync(ip, port, deadline.Token);
        tasks.Add(task);
        port = new Uri(task.Urls.Single()).Port; // the bound port, once started; the next tasks share it
        dns.AddAddress("name", IPAddress.Parse(ip), TimeSpan.Zero); // TTL 0, as in the AWS pattern
    }

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["CloudMapDiscovery:NameServers:0"] = dns.EndPoint.ToString(),
        ["CloudMapDiscovery:MinTtl"] = minTtl.ToString(),
    });
    builder.Services.AddHttpClient("name", c =>
        {
            c.BaseAddress = new Uri($"http://name.internal:{port}/");
            c.Timeout = TimeSpan.FromSeconds(10);
        })
        .AddCloudMapDiscovery();
    using var host = builder.Build();
    await host.StartAsync(deadline.Token);

    var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("name");
    var served = taskIps.ToDictionary(ip => ip, _ => 0);
    for (var i = 0; i < Requests; i++)
    {
        var body = await client.GetStringAsync(string.Empty, deadline.Token);
        if (!served.TryGetValue(body, out var count))
        {
            failures.Add($"request {i} was answered by '{body}', not by one of the tasks");
            continue;
        }

        served[body] = count + 1;
    }

    Console.WriteLine($"{Requests} requests to name.internal:{port}: {string.Join(", ", served.Select(s => $"{s.Key} {s.Value}"))}; DNS queries: {dns.QueryCount}");
    Check(served.Values.All(n => n > 0), "every task is discovered and served requests");
    Check(served.Values.Max() - served.Values.Min() <= 1, "round robin: the tasks' shares differ by at most one request");
    Check(dns.QueryCount is > 0 and < Requests, "answers come from the test DNS server and are cached (TTL 0 floored to MinTtl), not asked per request");

    var service = host.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>().GetSnapshot().SingleOrDefault();
    Check(service is { Host: "name.internal" } && service.Endpoints.Count == taskIps.Length, "the diagnostics snapshot shows name.internal with three endpoints");
    Check(service?.Ttl == minTtl, $"MinTtl from configuration is in force (TTL {service?.Ttl})");
    await host.StopAsync(deadline.Token);
}
catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or InvalidOperationException)
{
    failures.Add($"{ex.GetType().Name}: {ex.Message}");
}
finally
{
    foreach (var task in tasks)
    {
        await task.DisposeAsync();
    }
}

if (failures.Count > 0)
{
    Console.Error.WriteLine($"PackageConsumer FAILED ({failures.Count}):");
    failures.ForEach(f => Console.Error.WriteLine($"  - {f}"));
    return 1;
}

Console.WriteLine("PackageConsumer OK: discovery and balancing from the packages.");
return 0;

void Check(bool condition, string what)
{
    Console.WriteLine($"  {(condition ? "ok  " : "FAIL")} {what}");
    if (!condition)
    {
        failures.Add(what);
    }
}

// One "task": a Kestrel server on its own loopback address answering its address.
static async Task<WebApplication> StartTaskAsync(string ip, int port, CancellationToken cancellationToken)
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.WebHost.UseUrls($"http://{ip}:{port}");
    var app = builder.Build();
    app.MapGet("/", () => ip);
    await app.StartAsync(cancellationToken);
    return app;
}
