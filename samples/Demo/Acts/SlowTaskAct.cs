using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Acts 10 and 11: one name task answers 300 ms late; a hello of the act's own with the given LoadBalancer shares requests out.</summary>
/// <remarks>
/// Under RoundRobin the slow task gets its third and the p99 is its delay; under PeakEwma (given the RoundRobin act as
/// <c>baseline</c>) it gets a share well below that one. The bounds are loose: a loaded CI machine adds its own latency.
/// </remarks>
internal sealed class SlowTaskAct(int number, string loadBalancer, SlowTaskAct? baseline = null) : IDemoAct
{
    private const string Slow = "127.0.0.4";
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets the slow task's share of this act's answered requests, in percent, once the act has played.</summary>
    public double SlowShare { get; private set; }

    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        run.Client.Current = null;
        var port = Ports.Choose(0, ["127.0.0.1"]);
        await using var hello = ActHello.Build(run, port, new Dictionary<string, string> { ["LoadBalancer"] = loadBalancer });
        await hello.StartAsync(ct);
        run.Watch(hello.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>(), DemoRun.FirstTasks, "dns");
        run.Client.Retarget(new Uri($"http://127.0.0.1:{port}/"));
        var warm = await run.Client.GetAsync(string.Empty, ct);
        run.Event($"a hello of this act on 127.0.0.1:{port} with LoadBalancer = {loadBalancer}; warm-up {(int)warm.Status}");

        var expectation = baseline is null
            ? $"{Slow} answers {Delay.TotalMilliseconds:0} ms late and still gets about a third of the requests; the p99 shows its delay"
            : $"{Slow} answers {Delay.TotalMilliseconds:0} ms late and gets a share well below RoundRobin's ({baseline.SlowShare:0} %)";
        var act = run.Begin(number, $"A slow task under {loadBalancer}", expectation, ActPolicy.Strict);
        run.Cluster.SetFault(Slow, new TaskFault(null, Delay));
        run.Event($"name task {Slow} answers {Delay.TotalMilliseconds:0} ms late");
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        run.Client.Current = null;
        await Task.Delay(Delay * 2, ct); // the request in flight lands in this act before it is judged and its hello stops
        run.Cluster.SetFault(Slow, null);
        run.End(act, () =>
        {
            var served = act.ServedBy();
            var total = served.Values.Sum();
            SlowShare = total == 0 ? 0 : 100.0 * served.GetValueOrDefault(Slow) / total;
            var p99 = act.AnsweredPercentile(0.99);
            var fine = baseline is null
                ? SlowShare is >= 20 and <= 45
                : SlowShare < baseline.SlowShare / 2;
            return (fine, $"{Slow} served {served.GetValueOrDefault(Slow)} of {total} ({SlowShare:0.0} %), p99 {p99.TotalMilliseconds:0} ms");
        });
    }
}
