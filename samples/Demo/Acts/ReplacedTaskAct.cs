namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 3: the crashed task is deregistered and a new one takes traffic within the TTL in force.</summary>
internal sealed class ReplacedTaskAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(3, "Deregistered and replaced", $"a new task on {DemoRun.NewTask} takes traffic within the TTL ({DemoApp.DemoMinTtl.TotalSeconds:0} s in force)", ActPolicy.Strict);
        run.Cluster.Deregister("127.0.0.2");
        await run.Cluster.StartTaskAsync(DemoRun.NewTask);
        run.Cluster.Register(DemoRun.NewTask);
        var registeredAt = act.Elapsed;
        run.Event($"127.0.0.2 deregistered; new task {DemoRun.NewTask} started and registered");
        await Task.Delay(TimeSpan.FromSeconds(6), ct);
        run.End(act, () =>
        {
            var first = act.FirstServedBy(DemoRun.NewTask);
            var limit = DemoApp.DemoMinTtl + TimeSpan.FromSeconds(1.5);
            var within = first is { } f && f - registeredAt <= limit;
            var gone = run.Snapshot is { } s && s.Endpoints.All(e => e.Address != "127.0.0.2") && s.Endpoints.Any(e => e.Address == DemoRun.NewTask);
            var detail = first is { } t
                ? $"{DemoRun.NewTask} served its first request {(t - registeredAt).TotalSeconds:0.0} s after registering (limit {limit.TotalSeconds:0.0} s)"
                : $"{DemoRun.NewTask} served nothing";
            return (within && gone, gone ? detail : detail + "; hello's answer still lists 127.0.0.2 or lacks " + DemoRun.NewTask);
        });
    }
}
