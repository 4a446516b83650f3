using System.Diagnostics;
using System.Globalization;
using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Samples.Demo.Acts;
using CloudMapDiscovery.Samples.Hello;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Samples.Demo;

/// <summary>One run of the story, with its state for the views.</summary>
/// <remarks>The client, cluster and hello fields are owned and disposed by <see cref="RunAsync"/>'s scope.</remarks>
#pragma warning disable CA1001
internal sealed class DemoRun
#pragma warning restore CA1001
{
    private static readonly SlowTaskAct RoundRobinSlow = new(10, "RoundRobin");

    /// <summary>The acts, in the order they are played.</summary>
    public static readonly IDemoAct[] Story =
    [
        new SteadyStateAct(), new TaskCrashAct(), new ReplacedTaskAct(), new DarkAddressAct(), new DnsDownAct(), new AllTasksDownAct(), new TasksBackAct(),
        new ApiDiscoveryAct(), new ServerErrorAct(), RoundRobinSlow, new SlowTaskAct(11, "PeakEwma", RoundRobinSlow),
    ];

    public const string Host = "name.internal";
    public const string NewTask = "127.0.0.5";
    public static readonly string[] FirstTasks = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
    public static readonly string[] AllTasks = [.. FirstTasks, NewTask];

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
    private volatile ICloudMapDiscoveryDiagnostics _diagnostics = null!;
    private volatile ServiceSnapshot? _snapshot;

    public DemoRun(DemoOptions options, TextWriter output, bool live)
    {
        _options = options;
        _out = output;
        _live = live;
    }

    public ActStats? Current => _client?.Current;

    /// <summary>Gets the name tasks and Cloud Map's DNS.</summary>
    public Cluster Cluster => _cluster;

    /// <summary>Gets the client calling hello.</summary>
    public TrafficClient Client => _client;

    /// <summary>Gets the tasks the views show (the first hello's, until an act watches another).</summary>
    public IReadOnlyList<string> ShownTasks { get; private set; } = AllTasks;

    /// <summary>Gets what the watched hello discovers through, for the views: <c>dns</c> or <c>api</c>.</summary>
    public string Source { get; private set; } = "dns";

    /// <summary>Gets the watched hello's latest view of name.internal, polled every 100 ms.</summary>
    public ServiceSnapshot? Snapshot => _snapshot;

    /// <summary>Gets every act begun so far.</summary>
    public IReadOnlyList<ActStats> Acts
    {
        get
        {
            lock (_gate)
            {
                return [.. _acts];
            }
        }
    }

    /// <summary>Gets the last events, newest last.</summary>
    public IReadOnlyList<string> RecentEvents(int count)
    {
        lock (_gate)
        {
            return [.. _events.TakeLast(count)];
        }
    }

    /// <summary>Gets how far into the run we are, for event lines.</summary>
    public string Now => $"{_clock.Elapsed.TotalSeconds,5:0.0}s";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        await using var cluster = _cluster = await Cluster.StartAsync(_options.DnsPort, _options.NamePort, [.. AllTasks, .. ApiDiscoveryAct.Tasks]);
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
                ["CloudMapDiscovery:MinTtl"] = DemoApp.DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
                ["CloudMapDiscovery:NegativeTtlCap"] = DemoApp.DemoMinTtl.ToString("c", CultureInfo.InvariantCulture),
                ["CloudMapDiscovery:BaseEjectionTime"] = DemoApp.DemoEjection.ToString("c", CultureInfo.InvariantCulture),
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
        var view = _live ? new DemoView(this).LiveAsync(stop.Token) : new DemoView(this).PlainAsync(_out, stop.Token);

        if (!_live)
        {
            await _out.WriteLineAsync($"CloudMapDiscovery demo: DNS for zone 'internal' on {cluster.Dns.EndPoint}, name tasks on 127.0.0.2-.4:{cluster.NamePort}, hello on {helloUri}");
            await _out.WriteLineAsync($"hello calls NAME_SERVER={nameServer} with MinTtl {DemoApp.DemoMinTtl.TotalSeconds:0} s (records carry TTL 0 as in the AWS pattern), first ejection {DemoApp.DemoEjection.TotalSeconds:0} s; a client calls hello every 25 ms.");
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
        await new DemoView(this).WriteSummaryAsync(_out, passed, _clock.Elapsed);
        if (_options.KeepRunning)
        {
            await KeepRunningAsync(helloUri, nameServer, cancellationToken);
        }

        return passed ? 0 : 1;
    }

    // ---- The story ----

    private async Task PlayStoryAsync(CancellationToken ct)
    {
        foreach (var act in Story)
        {
            await act.PlayAsync(this, ct);
        }
    }

    /// <summary>Shows another hello's view of name.internal from now on: its diagnostics, its tasks and its source.</summary>
    public void Watch(ICloudMapDiscoveryDiagnostics diagnostics, IReadOnlyList<string> tasks, string source)
    {
        _diagnostics = diagnostics;
        ShownTasks = tasks;
        Source = source;
    }

    public ActStats Begin(int number, string title, string expectation, ActPolicy policy)
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

    public void End(ActStats act, Func<(bool Passed, string Detail)> verify)
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

    public void Event(string text)
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

    public int ServedTotal(string ip)
    {
        lock (_gate)
        {
            return _acts.Sum(a => a.ServedBy().GetValueOrDefault(ip));
        }
    }

    // ---- End ----

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

    public static string Age(DateTimeOffset? at) => at is { } t ? $"{Math.Max(0, (DateTimeOffset.UtcNow - t).TotalSeconds):0.0}s" : "-";

    public static string Until(DateTimeOffset? at) => at is { } t ? $"+{Math.Max(0, (t - DateTimeOffset.UtcNow).TotalSeconds):0.0}s" : "";

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
