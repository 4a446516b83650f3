using CloudMapDiscovery.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Samples.Hello;

/// <summary>
/// The <c>hello</c> service: <c>GET /</c> calls <c>name</c> through an HttpClient with Cloud Map discovery and answers
/// <c>Hello (from &lt;host&gt; &lt;local IP&gt;) &lt;name's answer&gt;</c>, or 502 with one line saying why name could
/// not be reached. <c>GET /ping</c> answers <c>ok</c> without calling name. <c>GET /debug/endpoints</c> shows what
/// discovery sees.
/// </summary>
public static class HelloApp
{
    /// <summary>The name of the HttpClient that calls name (and of its options section, <c>CloudMapDiscovery:Clients:name</c>).</summary>
    public const string ClientName = "name";

    /// <summary>The service name of the <c>name</c> service in Cloud Map and Copilot.</summary>
    public const string NameService = "name";

    /// <summary>The configuration key (environment variable) holding name's URL.</summary>
    public const string NameServerKey = "NAME_SERVER";

    /// <summary>The variable Copilot sets to the service discovery domain (<c>{env}.{app}.local</c>, legacy <c>{app}.local</c>).</summary>
    public const string CopilotEndpointKey = "COPILOT_SERVICE_DISCOVERY_ENDPOINT";

    /// <summary>The configuration key of the wait for name's whole answer, retries included; default 5 s.</summary>
    public const string NameTimeoutKey = "NAME_TIMEOUT";

    /// <summary>name's URL in the AWS pattern's private DNS namespace <c>internal</c>.</summary>
    public const string DefaultNameServer = "http://name.internal:3000/";

    /// <summary>
    /// Where name is: <c>NAME_SERVER</c> when set; else, under Copilot, <c>http://name.&lt;COPILOT_SERVICE_DISCOVERY_ENDPOINT&gt;:3000/</c>
    /// (the variable is only known inside the running task, so a manifest cannot interpolate it); else
    /// <c>http://name.internal:3000/</c>.
    /// </summary>
    /// <param name="configuration">The app's configuration (environment variables included).</param>
    /// <returns>An absolute http(s) URI.</returns>
    public static Uri ResolveNameServer(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[NameServerKey];
        if (string.IsNullOrWhiteSpace(text))
        {
            var domain = configuration[CopilotEndpointKey]?.Trim().Trim('.');
            text = string.IsNullOrEmpty(domain)
                ? DefaultNameServer
                : $"http://{NameService}.{domain}:{SampleHosting.DefaultPort}/";
        }

        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"{NameServerKey} must be an absolute http or https URL (was '{text}').");
        }

        return uri;
    }

    /// <summary>Builds the app without starting it.</summary>
    /// <param name="args">Command-line arguments (<c>--urls</c>, <c>--NAME_SERVER=...</c>, <c>--CloudMapDiscovery:MinTtl=...</c>).</param>
    /// <param name="configure">Changes to the builder before the listening rules apply (configuration, logging).</param>
    /// <returns>The app; call <c>RunAsync</c> or <c>StartAsync</c>.</returns>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        SampleHosting.ApplyListeningRules(builder);

        var nameServer = ResolveNameServer(builder.Configuration);
        var timeout = builder.Configuration.GetValue(NameTimeoutKey, TimeSpan.FromSeconds(5));

        // Every library option comes from configuration: CloudMapDiscovery__NameServers__0=127.0.0.1:5353 and so on;
        // CloudMapDiscovery__Source=Api discovers through the Cloud Map API instead (CloudMapDiscovery__Api__Region,
        // __ServiceUrl, __HealthStatus ...; credentials from the default AWS chain: AWS_ACCESS_KEY_ID, the task role).
        builder.Services.AddCloudMapApi();
        builder.Services.AddHttpClient(ClientName, client =>
            {
                client.BaseAddress = nameServer;
                client.Timeout = timeout;
            })
            .AddCloudMapDiscovery();
        HelloTelemetry.AddTo(builder);

        var app = builder.Build();
        app.MapGet("/", async (HttpContext context, IHttpClientFactory clients) =>
        {
            var client = clients.CreateClient(ClientName);
            var me = SampleHosting.Describe(context);
            try
            {
                using var response = await client.GetAsync(nameServer, HttpCompletionOption.ResponseContentRead, context.RequestAborted).ConfigureAwait(false);
                var body = (await response.Content.ReadAsStringAsync(context.RequestAborted).ConfigureAwait(false)).Trim();
                if (!response.IsSuccessStatusCode)
                {
                    return Fail($"{nameServer} answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
                }

                return SampleHosting.Text($"Hello (from {me}) {body}");
            }
            catch (HttpRequestException ex)
            {
                // The library's message names the host, every address tried and what happened there, or what DNS said.
                return Fail(ex.Message);
            }
            catch (TaskCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                return Fail($"{nameServer} did not answer within {timeout.TotalSeconds:0.#} s.");
            }
        });
        app.MapGet("/ping", () => SampleHosting.Text("ok"));
        app.MapGet("/debug/endpoints", (ICloudMapDiscoveryDiagnostics diagnostics) =>
            Results.Json(diagnostics.GetSnapshot(), HelloJsonContext.Default.IReadOnlyListServiceSnapshot));
        return app;
    }

    /// <summary>The 502 body: exactly one line.</summary>
    private static IResult Fail(string reason)
        => SampleHosting.Text(reason.ReplaceLineEndings(" ").Trim(), StatusCodes.Status502BadGateway);
}
