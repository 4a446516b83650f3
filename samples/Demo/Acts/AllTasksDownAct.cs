using System.Net;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 6: every name task stops: hello answers 502 fast, with the reason, and /ping stays ok.</summary>
internal sealed class AllTasksDownAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(6, "Every name task stops", "hello answers 502 fast, with the reason; /ping stays ok", ActPolicy.AllDown);
        foreach (var ip in new[] { "127.0.0.3", "127.0.0.4", DemoRun.NewTask })
        {
            await run.Cluster.KillTaskAsync(ip);
        }

        run.Event("name tasks 127.0.0.3, .4 and .5 stopped");
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        foreach (var ip in new[] { "127.0.0.3", "127.0.0.4", DemoRun.NewTask })
        {
            run.Cluster.Deregister(ip);
        }

        run.Event("ECS deregistered them: name.internal has no instances");
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        var ping = await run.Client.GetAsync("ping", ct);
        run.Event($"GET /ping on hello while name is down: {(int)ping.Status} {ping.Body}");
        await Task.Delay(TimeSpan.FromSeconds(2.5), ct);
        run.End(act, () =>
        {
            var pingOk = ping.Status == HttpStatusCode.OK && ping.Body == "ok";
            var fast = act.Expected502 > 0 && act.Slowest502 < TimeSpan.FromSeconds(3);
            return (pingOk && fast, $"{act.Expected502} x 502 (expected), slowest {act.Slowest502.TotalMilliseconds:0} ms; /ping {(pingOk ? "ok" : "FAILED")}");
        });
    }
}
