namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 7: the tasks come back and traffic recovers within a few seconds.</summary>
internal sealed class TasksBackAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(7, "Tasks come back", "traffic recovers within a few seconds, with no failure after that", ActPolicy.Recovering);
        foreach (var ip in DemoRun.FirstTasks)
        {
            await run.Cluster.StartTaskAsync(ip);
            run.Cluster.Register(ip);
        }

        var backAt = act.Elapsed;
        run.Event("name tasks 127.0.0.2, .3 and .4 started and registered");
        await Task.Delay(TimeSpan.FromSeconds(7), ct);
        run.End(act, () =>
        {
            var limit = TimeSpan.FromSeconds(5);
            var recovered = act.FirstOk is { } t && t - backAt <= limit;
            var tail = act.LastNotOk is not { } last || last < act.Elapsed - TimeSpan.FromSeconds(2);
            var detail = act.FirstOk is { } first ? $"first 200 {(first - backAt).TotalSeconds:0.0} s after the tasks registered (limit {limit.TotalSeconds:0} s)" : "no 200 at all";
            return (recovered && tail, detail);
        });

    }
}
