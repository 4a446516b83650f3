using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace CloudMapDiscovery.Samples;

/// <summary>What the name and hello samples share: where they listen and how they name themselves.</summary>
internal static class SampleHosting
{
    /// <summary>The port used when neither <c>--urls</c>, <c>ASPNETCORE_URLS</c> nor <c>PORT</c> says otherwise (the AWS pattern's).</summary>
    public const int DefaultPort = 3000;

    /// <summary>
    /// Listens where <c>--urls</c> or <c>ASPNETCORE_URLS</c> say; otherwise on every interface at <c>PORT</c>
    /// (default 3000). <c>ASPNETCORE_HTTP_PORTS</c>, which the .NET container images set to 8080, is deliberately
    /// overridden: the AWS pattern and our deployment files speak of <c>PORT</c>.
    /// </summary>
    public static void ApplyListeningRules(WebApplicationBuilder builder)
    {
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (!string.IsNullOrWhiteSpace(urls))
        {
            return;
        }

        builder.WebHost.UseUrls($"http://*:{GetPort(builder.Configuration)}");
    }

    /// <summary>Reads <c>PORT</c>; 3000 when unset.</summary>
    public static int GetPort(IConfiguration configuration)
    {
        var text = configuration["PORT"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return DefaultPort;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"PORT must be a TCP port number from 0 to 65535 (was '{text}').");
        }

        return port;
    }

    /// <summary>
    /// <c>&lt;full host name&gt; &lt;local IP the request arrived on&gt;</c>: on ECS the IP is the task's; locally it
    /// tells the 127.0.0.x "tasks" apart. The full name, unlike <see cref="Environment.MachineName"/>, is not truncated.
    /// </summary>
    public static string Describe(HttpContext context)
    {
        var local = context.Connection.LocalIpAddress;
        if (local is { IsIPv4MappedToIPv6: true })
        {
            local = local.MapToIPv4();
        }

        return $"{HostName} {local?.ToString() ?? "unknown"}";
    }

    /// <summary>The full host name, read once.</summary>
    public static string HostName { get; } = System.Net.Dns.GetHostName();

    /// <summary>Sends a one-line text/plain answer.</summary>
    public static IResult Text(string text, int statusCode = StatusCodes.Status200OK)
        => Results.Text(text, "text/plain", System.Text.Encoding.UTF8, statusCode);
}
