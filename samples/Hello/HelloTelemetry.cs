using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CloudMapDiscovery.Samples.Hello;

/// <summary>
/// OpenTelemetry for hello: traces of incoming requests, the calls to name with one span per attempt on a task
/// address, and the DNS lookups behind them; metrics of the same. Exported over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the standard OTEL_* variables apply), and to the console when
/// <c>HELLO_CONSOLE_TELEMETRY=true</c>. With neither, nothing is registered and nothing is recorded.
/// </summary>
public static class HelloTelemetry
{
    /// <summary>The configuration key that turns the console exporter on.</summary>
    public const string ConsoleKey = "HELLO_CONSOLE_TELEMETRY";

    /// <summary>The standard OpenTelemetry variable naming the OTLP collector.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    private static readonly string[] Sources = ["CloudMapDiscovery", "System.Net.Http", "Microsoft.AspNetCore"];
    private static readonly string[] Meters = ["CloudMapDiscovery", "Polly", "System.Net.Http", "Microsoft.AspNetCore.Hosting"];

    /// <summary>Registers OpenTelemetry when an exporter is asked for.</summary>
    /// <param name="builder">The app's builder.</param>
    public static void AddTo(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);
        var console = builder.Configuration.GetValue(ConsoleKey, false);
        if (!otlp && !console)
        {
            return;
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("hello"))
            .WithTracing(t =>
            {
                t.AddSource(Sources);
                if (console)
                {
                    t.AddConsoleExporter();
                }
            })
            .WithMetrics(m =>
            {
                m.AddMeter(Meters);
                if (console)
                {
                    m.AddConsoleExporter();
                }
            });
        if (otlp)
        {
            telemetry.UseOtlpExporter();
        }
    }
}
