namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 4: a task's address stops answering SYNs: found dead once, then probed, never retried.</summary>
internal sealed class DarkAddressAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        const string Dark = "127.0.0.4";
        var act = run.Begin(4, "A task's address goes dark", $"{Dark} stops answering SYNs but stays in DNS: one request finds it dead, no later request is sent there (it is probed, not retried)", ActPolicy.Strict);
        await run.Cluster.BlackHoleTaskAsync(Dark);
        run.Event($"name task {Dark} gone, its address black-holed (connects time out), still registered in Cloud Map");
        await Task.Delay(TimeSpan.FromSeconds(9), ct);
        run.End(act, () =>
        {
            if (act.FirstEjected(Dark) is not { } dead)
            {
                return (false, $"{Dark} was never seen ejected");
            }

            // Exact: hello's balancer sent nothing more to the dark address. The latencies say what that was worth
            // (bounded by the 2 s connect timeout that a request sent there would have waited out).
            var (slowest, median, count) = act.AnsweredAfter(dead);
            var sentThere = act.PicksSinceEjected(Dark);
            var probed = act.WasProbing(Dark);
            var fine = count > 0 && sentThere == 0 && slowest < TimeSpan.FromSeconds(2) && probed;
            var detail = $"found dead {dead.TotalSeconds:0.0} s in; after that {sentThere} request(s) were sent to it, and the {count} requests took at most {slowest.TotalMilliseconds:0} ms (median {median.TotalMilliseconds:0.0} ms)";
            return (fine, probed ? detail + "; when its ejection ended a background probe, not a request, waited on it" : detail + "; it was never seen probed");
        });
        await run.Cluster.RestoreTaskAsync(Dark);
        run.Event($"{Dark} answers again; its next probe re-admits it");
    }
}
