using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CloudMapDiscovery.Samples.Name;

/// <summary>
/// The <c>name</c> service: <c>GET /</c> answers <c>&lt;random first name&gt; (from &lt;host&gt; &lt;local IP&gt;)</c>,
/// <c>GET /ping</c> answers <c>ok</c>.
/// </summary>
public static class NameApp
{
    /// <summary>The 20 names of the AWS pattern.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Isabella", "Ava", "Mia", "Evelyn", "Luna",
        "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin", "Theodore",
    ];

    /// <summary>Builds the app without starting it.</summary>
    /// <param name="args">Command-line arguments (<c>--urls</c> and any other host setting).</param>
    /// <param name="configure">Changes to the builder before the listening rules apply (configuration, logging).</param>
    /// <returns>The app; call <c>RunAsync</c> or <c>StartAsync</c>.</returns>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        SampleHosting.ApplyListeningRules(builder);

        var app = builder.Build();
#pragma warning disable CA5394 // Random picks a display name, nothing secure.
        app.MapGet("/", (HttpContext context) =>
            SampleHosting.Text($"{Names[Random.Shared.Next(Names.Count)]} (from {SampleHosting.Describe(context)})"));
#pragma warning restore CA5394
        app.MapGet("/ping", () => SampleHosting.Text("ok"));
        return app;
    }
}
