using CloudMapDiscovery.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 9: a name task answers 500 to every request while its connects succeed; it is ejected after a few, and back through a trial request once healed.</summary>
/// <remarks>
/// A 500 is not retried (the request reached the task): the caller sees the few that ejection needs, then none. This
/// task connects fine, so a connect cannot re-admit it: when its ejection ends, one request is its trial, and only a
/// good answer to that trial puts it back in rotation (a failed one ejects it again, for longer).
/// </remarks>
internal sealed class ServerErrorAct : IDemoAct
{
    private const string Sick = "127.0.0.3";
    private const int ConsecutiveServerErrors = 5;
    private static readonly TimeSpan Faulty = TimeSpan.FromSeconds(5);

    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        run.Client.Current = null;
        var port = Ports.Choose(0, ["127.0.0.1"]);
        await using var hello = ActHello.Build(run, port, new Dictionary<string, string>
        {
            ["ConsecutiveServerErrors"] = $"{ConsecutiveServerErrors}",
            ["BaseEjectionTime"] = "00:00:01",
            ["MaxEjectionTime"] = "00:00:02",
        });
        await hello.StartAsync(ct);
        run.Watch(hello.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>(), DemoRun.FirstTasks, "dns");
        run.Client.Retarget(new Uri($"http://127.0.0.1:{port}/"));
        var warm = await run.Client.GetAsync(string.Empty, ct);
        run.Event($"a hello of this act on 127.0.0.1:{port}: ConsecutiveServerErrors {ConsecutiveServerErrors}, ejections shortened to 1 s base / 2 s max so the act stays short, a trial request re-admits; warm-up {(int)warm.Status}");

        var act = run.Begin(9, "A name task answers 500", $"{Sick} answers 500 to every request (connects succeed): ejected after {ConsecutiveServerErrors}, few requests fail; healed, its next trial request succeeds and it is back in rotation", ActPolicy.ServerErrors);
        run.Cluster.SetFault(Sick, new TaskFault(500, TimeSpan.Zero));
        run.Event($"name task {Sick} answers 500 to everything for {Faulty.TotalSeconds:0} s");
        await Task.Delay(Faulty, ct);
        run.Cluster.SetFault(Sick, null);
        var healedAt = act.Elapsed;
        var servedBefore = act.ServedBy().GetValueOrDefault(Sick);
        run.Event($"name task {Sick} healed");
        await Task.Delay(TimeSpan.FromSeconds(4), ct);
        run.Client.Current = null;
        await Task.Delay(TimeSpan.FromMilliseconds(200), ct); // the request in flight lands in this act before it is judged and its hello stops
        run.End(act, () =>
        {
            var failed = act.Expected502;
            var share = act.Requests == 0 ? 0 : 100.0 * failed / act.Requests;
            var back = act.ServedBy().GetValueOrDefault(Sick) - servedBefore;
            var fine = act.WasEjected(Sick) && failed <= 4 * ConsecutiveServerErrors && share < 10 && back > 0 && act.FirstServedBy(Sick) is not null;
            return (fine, $"{Sick} {(act.WasEjected(Sick) ? "was ejected" : "was never seen ejected")}; {failed} of {act.Requests} requests got its 500 ({share:0.0} %); {back} served by it after it healed at {healedAt.TotalSeconds:0.0} s");
        });
    }
}
