namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 2: a name task crashes without deregistering; its address is ejected and no client request fails.</summary>
internal sealed class TaskCrashAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(2, "A name task crashes", "127.0.0.2 dies without deregistering: no client failure, its IP is ejected", ActPolicy.Strict);
        await run.Cluster.KillTaskAsync("127.0.0.2");
        run.Event("name task 127.0.0.2 crashed (still registered in Cloud Map)");
        await Task.Delay(TimeSpan.FromSeconds(6), ct);
        run.End(act, () =>
        {
            var ejected = act.WasEjected("127.0.0.2");
            return (ejected, ejected ? "127.0.0.2 was ejected; every request was retried elsewhere" : "127.0.0.2 was never seen ejected");
        });
    }
}
