using System.Diagnostics;
using System.Globalization;
using System.Net;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Samples.Hello;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>
/// The one-command demo: Cloud Map (a DNS server for zone <c>internal</c>), name tasks on 127.0.0.2-.5, hello on
/// 127.0.0.1 with CloudMapDiscovery, and a client calling hello, through seven acts. Each act checks its own
/// expectation; the exit code is 0 only when all of them held.
/// </summary>
public static class DemoApp
{
    /// <summary>The demo's shorter cache floor (the library's default is 5 s) so that act 3 converges in seconds.</summary>
    public static readonly TimeSpan DemoMinTtl = TimeSpan.FromSeconds(2);

    /// <summary>The demo's shorter first ejection (default 10 s), so that ejections come and go within an act.</summary>
    public static readonly TimeSpan DemoEjection = TimeSpan.FromSeconds(3);

    private const string Host = "name.internal";
    private static readonly string[] FirstTasks = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
    private const string NewTask = "127.0.0.5";
    private static readonly string[] AllTasks = [.. FirstTasks, NewTask];

    /// <summary>Runs the demo.</summary>
    /// <param name="args">The command line (see <see cref="DemoOptions.Usage"/>).</param>
    /// <param name="output">Where plain lines go; <see langword="null"/> for the console, live when it is a terminal.</param>
    /// <param name="cancellationToken">Stops the demo (Ctrl+C).</param>
    /// <returns>0 when every act met its expectation, 1 when one did not, 2 on bad arguments or a start-up error.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, CancellationToken cancellationToken = default)
    {
        var console = output ?? Console.Out;
        DemoOptions options;
        try
        {
            options = DemoOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await console.WriteLineAsync(ex.Message);
            await console.WriteLineAsync(DemoOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            await console.WriteLineAsync(DemoOptions.Usage);
            return 0;
        }

        var live = output is null && !options.Plain && !Console.IsOutputRedirected
            && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            && AnsiConsole.Profile.Capabilities.Interactive;
        var run = new DemoRun(options, console, live);
        try
        {
            return await run.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.WriteLineAsync("Stopped.");
            return 1;
        }
    }

    /// <summary>One run of the story, with its state for the views.</summary>
    /// <remarks>The client, cluster and hello fields are owned and disposed by <see cref="RunAsync"/>'s scope.</remarks>
#pragma warning disable CA1001
    private sealed class DemoRun
#pragma warning restore CA1001
    {
        private readonly DemoOptions _options;
        private readonly TextWriter _out;
        private readonly bool _live;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<ActStats> _acts = [];
        private readonly List<string> _events = [];
        private readonly object _gate = new();
        private Cluster _cluster = null!;
        private WebApplication _hello = null!;
        private TrafficClient _client = null!;
        private ICloudMapDiscoveryDiagnostics _diagnostics = null!;
        private volatile ServiceSnapshot? _snapshot;

        public DemoRun(DemoOptions options, TextWriter output, bool live)
        {
            _options = options;
            _out = output;
            _live = live;
        }

        private ActStats? Current => _client?.Current;

        public async Task<int> RunAsync(CancellationToken cancellationToken)
        {
            await using var cluster = _cluster = await Cluster.StartAsync(_options.DnsPort, _options.NamePort, AllTasks);
            foreach (var ip in FirstTasks)
            {
                await cluster.StartTaskAsync(ip);
                cluster.Register(ip);
            }

            var helloPort = Ports.Choose(_options.HelloPort, ["127.0.0.1"]);
            var nameServer = $"http://{Host}:{cluster.NamePort}/";
            _hello = HelloApp.Build(["--urls", $"http://127.0.0.1:{helloPort}"], b =>
            {
                b.Logging.ClearProviders();
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    [HelloApp.NameServerKey] = nameServer,
                    ["CloudMapDiscovery:NameServers:0"] = cluster.Dns.EndPoint.ToString(),
                    ["CloudMapDiscovery:MinTtl"] = DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
                    ["CloudMapDiscovery:NegativeTtlCap"] = DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
                    ["CloudMapDiscovery:BaseEjectionTime"] = DemoEjection.ToString("c", CultureInfo.InvariantCulture),
                    ["CloudMapDiscovery:DnsTimeout"] = "00:00:01",
                });
            });
            await using var hello = _hello;
            await hello.StartAsync(cancellationToken);
            _diagnostics = hello.Services.GetRequiredService<ICloudMapDiscoveryDiagnostics>();
            var helloUri = new Uri($"http://127.0.0.1:{helloPort}/");

            using var client = _client = new TrafficClient(helloUri);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var traffic = client.RunAsync(stop.Token);
            var monitor = MonitorAsync(stop.Token);
            var view = _live ? LiveViewAsync(stop.Token) : PlainViewAsync(stop.Token);

            if (!_live)
            {
                await _out.WriteLineAsync($"CloudMapDiscovery demo: DNS for zone 'internal' on {cluster.Dns.EndPoint}, name tasks on 127.0.0.2-.4:{cluster.NamePort}, hello on {helloUri}");
                await _out.WriteLineAsync($"hello calls NAME_SERVER={nameServer} with MinTtl {DemoMinTtl.TotalSeconds:0} s (records carry TTL 0 as in the AWS pattern), first ejection {DemoEjection.TotalSeconds:0} s; a client calls hello every 25 ms.");
            }

            // One request before the story, so that start-up (JIT, the first DNS query) is not counted in act 1.
            var warm = await client.GetAsync(string.Empty, cancellationToken);
            Event($"warm-up: {(int)warm.Status} {warm.Body}");
            try
            {
                await PlayStoryAsync(cancellationToken);
            }
            finally
            {
                client.Current = null;
                await stop.CancelAsync();
                await IgnoreCancellation(traffic);
                await IgnoreCancellation(monitor);
                await IgnoreCancellation(view);
            }

            var passed = _acts.All(a => a.Passed == true);
            await WriteSummaryAsync(passed);
            if (_options.KeepRunning)
            {
                await KeepRunningAsync(helloUri, nameServer, cancellationToken);
            }

            return passed ? 0 : 1;
        }

        // ---- The story ----

        private async Task PlayStoryAsync(CancellationToken ct)
        {
            var c = _cluster;

            var act = Begin(1, "Steady state", "requests spread evenly over 127.0.0.2, .3 and .4", ActPolicy.Strict);
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
            End(act, () =>
            {
                var served = act.ServedBy();
                var total = Math.Max(1, served.Values.Sum());
                var shares = FirstTasks.Select(ip => (double)served.GetValueOrDefault(ip) / total).ToArray();
                var even = shares.All(s => s is > 0.25 and < 0.42);
                return (even, $"shares {string.Join(" / ", shares.Select(s => s.ToString("P0", CultureInfo.InvariantCulture)))}");
            });

            act = Begin(2, "A name task crashes", "127.0.0.2 dies without deregistering: no client failure, its IP is ejected", ActPolicy.Strict);
            await c.KillTaskAsync("127.0.0.2");
            Event("name task 127.0.0.2 crashed (still registered in Cloud Map)");
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            End(act, () =>
            {
                var ejected = act.WasEjected("127.0.0.2");
                return (ejected, ejected ? "127.0.0.2 was ejected; every request was retried elsewhere" : "127.0.0.2 was never seen ejected");
            });

            act = Begin(3, "Deregistered and replaced", $"a new task on {NewTask} takes traffic within the TTL ({DemoMinTtl.TotalSeconds:0} s in force)", ActPolicy.Strict);
            c.Deregister("127.0.0.2");
            await c.StartTaskAsync(NewTask);
            c.Register(NewTask);
            var registeredAt = act.Elapsed;
            Event($"127.0.0.2 deregistered; new task {NewTask} started and registered");
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            End(act, () =>
            {
                var first = act.FirstServedBy(NewTask);
                var limit = DemoMinTtl + TimeSpan.FromSeconds(1.5);
                var within = first is { } f && f - registeredAt <= limit;
                var gone = _snapshot is { } s && s.Endpoints.All(e => e.Address != "127.0.0.2") && s.Endpoints.Any(e => e.Address == NewTask);
                var detail = first is { } t
                    ? $"{NewTask} served its first request {(t - registeredAt).TotalSeconds:0.0} s after registering (limit {limit.TotalSeconds:0.0} s)"
                    : $"{NewTask} served nothing";
                return (within && gone, gone ? detail : detail + "; hello's answer still lists 127.0.0.2 or lacks " + NewTask);
            });

            const string Dark = "127.0.0.4";
            act = Begin(4, "A task's address goes dark", $"{Dark} stops answering SYNs but stays in DNS: one request finds it dead, no later request is sent there (it is probed, not retried)", ActPolicy.Strict);
            await c.BlackHoleTaskAsync(Dark);
            Event($"name task {Dark} gone, its address black-holed (connects time out), still registered in Cloud Map");
            await Task.Delay(TimeSpan.FromSeconds(9), ct);
            End(act, () =>
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
            await c.RestoreTaskAsync(Dark);
            Event($"{Dark} answers again; its next probe re-admits it");

            act = Begin(5, "The DNS server goes down", "traffic goes on from the last good answer (served stale)", ActPolicy.Strict);
            await c.Dns.StopAsync();
            Event("DNS server stopped");
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            var servedLate = act.Ok;
            End(act, () => (act.StaleSeen && servedLate > 0, act.StaleSeen ? $"hello served {act.Ok} requests from its stale answer" : "hello never reported its answer stale"));
            await c.Dns.RestartAsync();
            Event("DNS server restarted");

            act = Begin(6, "Every name task stops", "hello answers 502 fast, with the reason; /ping stays ok", ActPolicy.AllDown);
            foreach (var ip in new[] { "127.0.0.3", "127.0.0.4", NewTask })
            {
                await c.KillTaskAsync(ip);
            }

            Event("name tasks 127.0.0.3, .4 and .5 stopped");
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
            foreach (var ip in new[] { "127.0.0.3", "127.0.0.4", NewTask })
            {
                c.Deregister(ip);
            }

            Event("ECS deregistered them: name.internal has no instances");
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
            var ping = await _client.GetAsync("ping", ct);
            Event($"GET /ping on hello while name is down: {(int)ping.Status} {ping.Body}");
            await Task.Delay(TimeSpan.FromSeconds(2.5), ct);
            End(act, () =>
            {
                var pingOk = ping.Status == HttpStatusCode.OK && ping.Body == "ok";
                var fast = act.Expected502 > 0 && act.Slowest502 < TimeSpan.FromSeconds(3);
                return (pingOk && fast, $"{act.Expected502} x 502 (expected), slowest {act.Slowest502.TotalMilliseconds:0} ms; /ping {(pingOk ? "ok" : "FAILED")}");
            });

            act = Begin(7, "Tasks come back", "traffic recovers within a few seconds, with no failure after that", ActPolicy.Recovering);
            foreach (var ip in FirstTasks)
            {
                await c.StartTaskAsync(ip);
                c.Register(ip);
            }

            var backAt = act.Elapsed;
            Event("name tasks 127.0.0.2, .3 and .4 started and registered");
            await Task.Delay(TimeSpan.FromSeconds(7), ct);
            End(act, () =>
            {
                var limit = TimeSpan.FromSeconds(5);
                var recovered = act.FirstOk is { } t && t - backAt <= limit;
                var tail = act.LastNotOk is not { } last || last < act.Elapsed - TimeSpan.FromSeconds(2);
                var detail = act.FirstOk is { } first ? $"first 200 {(first - backAt).TotalSeconds:0.0} s after the tasks registered (limit {limit.TotalSeconds:0} s)" : "no 200 at all";
                return (recovered && tail, detail);
            });
        }

        private ActStats Begin(int number, string title, string expectation, ActPolicy policy)
        {
            var act = new ActStats(number, title, expectation, policy);
            lock (_gate)
            {
                _acts.Add(act);
            }

            _client.Current = act;
            if (!_live)
            {
                _out.WriteLine();
                _out.WriteLine($"[{Now}] Act {number}: {title}. Expect: {expectation}.");
            }

            return act;
        }

        private void End(ActStats act, Func<(bool Passed, string Detail)> verify)
        {
            act.End();
            var (passed, detail) = verify();
            act.Judge(passed, detail);
            Event($"act {act.Number} {(act.Passed == true ? "PASSED" : "FAILED")}: {act.Verdict}");
            foreach (var reason in act.Reasons())
            {
                Event($"  502 reason: {reason}");
            }
        }

        private void Event(string text)
        {
            var line = $"[{Now}] {text}";
            lock (_gate)
            {
                _events.Add(line);
            }

            if (!_live)
            {
                _out.WriteLine(line);
            }
        }

        private string Now => $"{_clock.Elapsed.TotalSeconds,5:0.0}s";

        // ---- Watching hello's discovery state ----

        private async Task MonitorAsync(CancellationToken ct)
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (await tick.WaitForNextTickAsync(ct))
            {
                var snapshot = _diagnostics.GetSnapshot().FirstOrDefault(s => string.Equals(s.Host, Host, StringComparison.OrdinalIgnoreCase));
                _snapshot = snapshot;
                if (snapshot is not null)
                {
                    Current?.Observe(
                        snapshot.Endpoints.Where(e => e.State == EndpointState.Ejected).Select(e => e.Address),
                        snapshot.Endpoints.Where(e => e.State == EndpointState.Probing).Select(e => e.Address),
                        snapshot.Endpoints.ToDictionary(e => e.Address, e => e.RequestsPicked),
                        snapshot.IsStale);
                }
            }
        }

        // ---- Plain view ----

        private async Task PlainViewAsync(CancellationToken ct)
        {
            using var tick = new PeriodicTimer(TimeSpan.FromSeconds(2));
            while (await tick.WaitForNextTickAsync(ct))
            {
                if (Current is not { } act)
                {
                    continue;
                }

                var s = _snapshot;
                var tasks = string.Join("  ", AllTasks.Select(ip => $"{ip[8..]}={act.ServedBy().GetValueOrDefault(ip)}{TaskFlag(ip, s)}"));
                var dns = s is null ? "no answer yet" : $"dns {(s.IsStale ? "STALE" : "fresh")}, ttl {s.Ttl?.TotalSeconds:0}s, refreshed {Age(s.LastRefresh)} ago";
                await _out.WriteLineAsync($"[{Now}]   act {act.Number}: {act.Requests} req, {act.Ok} ok, {act.Expected502} x 502 expected, {act.Failures} failed | served {tasks} | {dns}");
            }
        }

        private string TaskFlag(string ip, ServiceSnapshot? s)
        {
            var e = s?.Endpoints.FirstOrDefault(x => x.Address == ip);
            var flags = new List<string>();
            if (!_cluster.IsRunning(ip) && (_cluster.IsRegistered(ip) || e is not null))
            {
                flags.Add("down");
            }

            if (_cluster.IsDark(ip))
            {
                flags.Add("dark");
            }

            if (e is { State: EndpointState.Ejected })
            {
                flags.Add($"ejected {Until(e.EjectedUntil)}");
            }

            if (e is { State: EndpointState.Probing })
            {
                flags.Add("probing");
            }

            return flags.Count == 0 ? string.Empty : $"({string.Join(", ", flags)})";
        }

        // ---- Live view ----

        private async Task LiveViewAsync(CancellationToken ct)
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
            var act = Current ?? _acts.LastOrDefault();
            var s = _snapshot;
            var header = act is null
                ? new Markup("[bold]Starting…[/]")
                : new Markup($"[bold]Act {act.Number}/7: {Markup.Escape(act.Title)}[/]  [grey]{act.Elapsed.TotalSeconds:0}s[/]\n[italic]Expect: {Markup.Escape(act.Expectation)}[/]");

            var table = new Table().Border(TableBorder.Rounded).Title("name tasks as hello sees them");
            table.AddColumn("task IP");
            table.AddColumn("process");
            table.AddColumn("in Cloud Map");
            table.AddColumn("in hello's answer");
            table.AddColumn("state");
            table.AddColumn("ejected until");
            table.AddColumn(new TableColumn("served (act)").RightAligned());
            table.AddColumn(new TableColumn("served (all)").RightAligned());
            foreach (var ip in AllTasks)
            {
                var e = s?.Endpoints.FirstOrDefault(x => x.Address == ip);
                var running = _cluster?.IsRunning(ip) == true;
                var state = e is null ? "[grey]-[/]" : e.State == EndpointState.Ejected ? "[red]ejected[/]" : "[green]healthy[/]";
                table.AddRow(
                    ip,
                    running ? "[green]running[/]" : "[red]stopped[/]",
                    _cluster?.IsRegistered(ip) == true ? "registered" : "[grey]-[/]",
                    e is null ? "[grey]-[/]" : "listed",
                    state,
                    e?.State == EndpointState.Ejected ? Until(e.EjectedUntil) : "",
                    (act?.ServedBy().GetValueOrDefault(ip) ?? 0).ToString(CultureInfo.InvariantCulture),
                    ServedTotal(ip).ToString(CultureInfo.InvariantCulture));
            }

            var dnsUp = _cluster?.Dns.IsRunning == true;
            var dns = new Markup(
                $"DNS server: {(dnsUp ? "[green]up[/]" : "[red]down[/]")}   record TTL 0 s, in force {s?.Ttl?.TotalSeconds ?? 0:0} s   last refresh {Age(s?.LastRefresh)} ago   answer: {(s is null ? "none" : s.IsStale ? "[yellow]stale[/]" : "[green]fresh[/]")}");
            var failures = _acts.Sum(a => a.Failures);
            var client = new Markup(
                $"client: {_acts.Sum(a => a.Requests)} requests, {_acts.Sum(a => a.Ok)} ok, {_acts.Sum(a => a.Expected502)} x 502 expected, {(failures == 0 ? "[green]0 failures[/]" : $"[red]{failures} failures[/]")}");
            string[] recent;
            lock (_gate)
            {
                recent = [.. _events.TakeLast(8)];
            }

            var log = new Panel(new Markup(Markup.Escape(recent.Length == 0 ? " " : string.Join('\n', recent)))).Header("events").Expand();
            return new Rows(header, table, dns, client, log);
        }

        private int ServedTotal(string ip)
        {
            lock (_gate)
            {
                return _acts.Sum(a => a.ServedBy().GetValueOrDefault(ip));
            }
        }

        // ---- End ----

        private async Task WriteSummaryAsync(bool passed)
        {
            var w = _out;
            await w.WriteLineAsync();
            await w.WriteLineAsync("Summary");
            await w.WriteLineAsync("act                               requests    ok  502 expected  failures  verdict");
            foreach (var a in _acts)
            {
                await w.WriteLineAsync($"{a.Number} {a.Title,-31} {a.Requests,8} {a.Ok,5} {a.Expected502,13} {a.Failures,9}  {(a.Passed == true ? "passed" : "FAILED")}: {a.Verdict}");
            }

            var requests = _acts.Sum(a => a.Requests);
            var ok = _acts.Sum(a => a.Ok);
            await w.WriteLineAsync($"total                             {requests,8} {ok,5} {_acts.Sum(a => a.Expected502),13} {_acts.Sum(a => a.Failures),9}");
            var distribution = AllTasks.Select(ip => (ip, n: ServedTotal(ip))).ToArray();
            await w.WriteLineAsync("distribution of the 200s: " + string.Join(", ", distribution.Select(d => $"{d.ip} {d.n} ({(ok == 0 ? 0 : (double)d.n / ok).ToString("P0", CultureInfo.InvariantCulture)})")));
            await w.WriteLineAsync(passed
                ? $"All {_acts.Count} acts met their expectations in {_clock.Elapsed.TotalSeconds:0} s: exit code 0."
                : $"Act(s) {string.Join(", ", _acts.Where(a => a.Passed != true).Select(a => a.Number))} did not meet their expectations: exit code 1 (CI fails on this).");
        }

        private async Task KeepRunningAsync(Uri hello, string nameServer, CancellationToken ct)
        {
            var dns = _cluster.Dns.EndPoint;
            await _out.WriteLineAsync();
            await _out.WriteLineAsync("Everything stays up (Ctrl+C to stop). Try:");
            await _out.WriteLineAsync($"  curl {hello}");
            await _out.WriteLineAsync($"  curl {hello}ping");
            await _out.WriteLineAsync($"  curl {hello}debug/endpoints");
            await _out.WriteLineAsync($"  curl http://127.0.0.2:{_cluster.NamePort}/");
            await _out.WriteLineAsync($"  dig @{dns.Address} -p {dns.Port} {Host} A");
            await _out.WriteLineAsync($"  NAME_SERVER={nameServer} CloudMapDiscovery__NameServers__0={dns} PORT=8080 dotnet run --project samples/Hello");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                await _out.WriteLineAsync("Stopping.");
            }
        }

        private static string Age(DateTimeOffset? at) => at is { } t ? $"{Math.Max(0, (DateTimeOffset.UtcNow - t).TotalSeconds):0.0}s" : "-";

        private static string Until(DateTimeOffset? at) => at is { } t ? $"+{Math.Max(0, (t - DateTimeOffset.UtcNow).TotalSeconds):0.0}s" : "";

        private static async Task IgnoreCancellation(Task task)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
