using System.Globalization;
using CloudMapDiscovery.Diagnostics;
using Spectre.Console;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>What the audience sees of a run: a line every 2 s (plain) or a live table on a terminal, and the summary.</summary>
internal sealed class DemoView(DemoRun run)
{
    public async Task PlainAsync(TextWriter output, CancellationToken ct)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await tick.WaitForNextTickAsync(ct))
        {
            if (run.Current is not { } act)
            {
                continue;
            }

            var s = run.Snapshot;
            var tasks = string.Join("  ", run.ShownTasks.Select(ip => $"{ip[8..]}={act.ServedBy().GetValueOrDefault(ip)}{TaskFlag(ip, s)}"));
            var dns = s is null ? "no answer yet" : $"{run.Source} {(s.IsStale ? "STALE" : "fresh")}, ttl {s.Ttl?.TotalSeconds:0}s, refreshed {DemoRun.Age(s.LastRefresh)} ago";
            await output.WriteLineAsync($"[{run.Now}]   act {act.Number}: {act.Requests} req, {act.Ok} ok, {act.Expected502} x 502 expected, {act.Failures} failed | served {tasks} | {dns}");
        }
    }

    private string TaskFlag(string ip, ServiceSnapshot? s)
    {
        var e = s?.Endpoints.FirstOrDefault(x => x.Address == ip);
        var flags = new List<string>();
        if (!run.Cluster.IsRunning(ip) && (run.Cluster.IsRegistered(ip) || e is not null))
        {
            flags.Add("down");
        }

        if (run.Cluster.IsDark(ip))
        {
            flags.Add("dark");
        }

        if (e is { State: EndpointState.Ejected })
        {
            flags.Add($"ejected {DemoRun.Until(e.EjectedUntil)}");
        }

        if (e is { State: EndpointState.Probing })
        {
            flags.Add("probing");
        }

        return flags.Count == 0 ? string.Empty : $"({string.Join(", ", flags)})";
    }

    public async Task LiveAsync(CancellationToken ct)
    {
        await AnsiConsole.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async ctx =>
        {
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    ctx.UpdateTarget(Render());
                    await Task.Delay(250, ct);
                }
            }
            catch (OperationCanceledException)
            {
                ctx.UpdateTarget(Render());
            }
        });
    }

    private Rows Render()
    {
        var act = run.Current ?? (run.Acts is [.., var last] ? last : null);
        var s = run.Snapshot;
        var header = act is null
            ? new Markup("[bold]Starting…[/]")
            : new Markup($"[bold]Act {act.Number}/{DemoRun.Story.Length}: {Markup.Escape(act.Title)}[/]  [grey]{act.Elapsed.TotalSeconds:0}s[/]\n[italic]Expect: {Markup.Escape(act.Expectation)}[/]");

        var table = new Table().Border(TableBorder.Rounded).Title("name tasks as hello sees them");
        table.AddColumn("task IP");
        table.AddColumn("process");
        table.AddColumn("in Cloud Map");
        table.AddColumn("in hello's answer");
        table.AddColumn("state");
        table.AddColumn("ejected until");
        table.AddColumn(new TableColumn("served (act)").RightAligned());
        table.AddColumn(new TableColumn("served (all)").RightAligned());
        foreach (var ip in run.ShownTasks)
        {
            var e = s?.Endpoints.FirstOrDefault(x => x.Address == ip);
            var running = run.Cluster?.IsRunning(ip) == true;
            var state = e is null ? "[grey]-[/]" : e.State == EndpointState.Ejected ? "[red]ejected[/]" : "[green]healthy[/]";
            table.AddRow(
                ip,
                running ? "[green]running[/]" : "[red]stopped[/]",
                run.Cluster?.IsRegistered(ip) == true ? "registered" : "[grey]-[/]",
                e is null ? "[grey]-[/]" : "listed",
                state,
                e?.State == EndpointState.Ejected ? DemoRun.Until(e.EjectedUntil) : "",
                (act?.ServedBy().GetValueOrDefault(ip) ?? 0).ToString(CultureInfo.InvariantCulture),
                run.ServedTotal(ip).ToString(CultureInfo.InvariantCulture));
        }

        var dnsUp = run.Cluster?.Dns.IsRunning == true;
        var dns = new Markup(
            $"DNS server: {(dnsUp ? "[green]up[/]" : "[red]down[/]")}   record TTL 0 s, in force {s?.Ttl?.TotalSeconds ?? 0:0} s   last refresh {DemoRun.Age(s?.LastRefresh)} ago   answer: {(s is null ? "none" : s.IsStale ? "[yellow]stale[/]" : "[green]fresh[/]")}");
        var acts = run.Acts;
        var failures = acts.Sum(a => a.Failures);
        var client = new Markup(
            $"client: {acts.Sum(a => a.Requests)} requests, {acts.Sum(a => a.Ok)} ok, {acts.Sum(a => a.Expected502)} x 502 expected, {(failures == 0 ? "[green]0 failures[/]" : $"[red]{failures} failures[/]")}");
        var recent = run.RecentEvents(8);

        var log = new Panel(new Markup(Markup.Escape(recent.Count == 0 ? " " : string.Join('\n', recent)))).Header("events").Expand();
        return new Rows(header, table, dns, client, log);
    }

    public async Task WriteSummaryAsync(TextWriter w, bool passed, TimeSpan elapsed)
    {
        var acts = run.Acts;
        await w.WriteLineAsync();
        await w.WriteLineAsync("Summary");
        await w.WriteLineAsync("act                               requests    ok  502 expected  failures  verdict");
        foreach (var a in acts)
        {
            await w.WriteLineAsync($"{a.Number} {a.Title,-31} {a.Requests,8} {a.Ok,5} {a.Expected502,13} {a.Failures,9}  {(a.Passed == true ? "passed" : "FAILED")}: {a.Verdict}");
        }

        var requests = acts.Sum(a => a.Requests);
        var ok = acts.Sum(a => a.Ok);
        await w.WriteLineAsync($"total                             {requests,8} {ok,5} {acts.Sum(a => a.Expected502),13} {acts.Sum(a => a.Failures),9}");
        var distribution = DemoRun.AllTasks.Select(ip => (ip, n: run.ServedTotal(ip))).ToArray();
        await w.WriteLineAsync("distribution of the 200s: " + string.Join(", ", distribution.Select(d => $"{d.ip} {d.n} ({(ok == 0 ? 0 : (double)d.n / ok).ToString("P0", CultureInfo.InvariantCulture)})")));
        await w.WriteLineAsync(passed
            ? $"All {acts.Count} acts met their expectations in {elapsed.TotalSeconds:0} s: exit code 0."
            : $"Act(s) {string.Join(", ", acts.Where(a => a.Passed != true).Select(a => a.Number))} did not meet their expectations: exit code 1 (CI fails on this).");
    }
}
