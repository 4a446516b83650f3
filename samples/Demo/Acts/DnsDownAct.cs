namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 5: the DNS server goes down and traffic goes on from the last good answer.</summary>
internal sealed class DnsDownAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(5, "The DNS server goes down", "traffic goes on from the last good answer (served stale)", ActPolicy.Strict);
        await run.Cluster.Dns.StopAsync();
        run.Event("DNS server stopped");
        await Task.Delay(TimeSpan.FromSeconds(6), ct);
        var servedLate = act.Ok;
        run.End(act, () => (act.StaleSeen && servedLate > 0, act.StaleSeen ? $"hello served {act.Ok} requests from its stale answer" : "hello never reported its answer stale"));
        await run.Cluster.Dns.RestartAsync();
        run.Event("DNS server restarted");
    }
}
