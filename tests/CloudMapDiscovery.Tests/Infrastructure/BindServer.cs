using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// A real BIND 9 <c>named</c>, authoritative for the Cloud Map style zone <c>internal</c> (see
/// <see cref="BindZone"/>), started in the foreground with a private temporary directory and
/// configuration, listening only on 127.0.0.1 at a free port (UDP and TCP), with recursion off and
/// dynamic updates allowed from 127.0.0.1 so tests can change records at run time with <c>nsupdate</c>.
/// </summary>
/// <remarks>
/// <para>
/// Use it through the <see cref="BindCollectionDefinition"/> collection fixture (one named per test run), or start a
/// private instance with <see cref="StartAsync"/> when a test needs an unmodified zone.
/// Every test that needs BIND calls <see cref="SkipIfUnavailable"/> first: without BIND the test is skipped,
/// except under <c>CI=true</c>, where it fails.
/// </para>
/// <para>
/// Environment: <c>CLOUDMAP_NAMED_PATH</c> overrides the <c>named</c> binary (set it to a missing path to
/// exercise the skip path); <c>nsupdate</c> and <c>dig</c> are taken from PATH (or /usr/bin).
/// </para>
/// </remarks>
public sealed class BindServer : IAsyncLifetime
{
    /// <summary>The environment variable that overrides the path of <c>named</c>.</summary>
    public const string NamedPathVariable = "CLOUDMAP_NAMED_PATH";

    /// <summary>What to install when BIND is missing.</summary>
    public const string InstallHint = "apt-get install bind9 bind9-dnsutils";

    private const int MaxStartAttempts = 5;
    private const string TokenName = "fixture-instance.internal";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(15);
    private static readonly Lazy<BindTools> Tools = new(BindTools.Find);
    private static readonly ConcurrentDictionary<BindServer, bool> Live = new();
    private static int s_exitHookInstalled;

    private readonly object _logLock = new();
    private readonly StringBuilder _log = new();
    private readonly SemaphoreSlim _updateLock = new(1, 1);
    private Process? _process;
    private string? _directory;
    private IPEndPoint? _endPoint;
    private string? _startFailure;
    private bool _legacyBind;

    /// <summary>
    /// Gets why BIND cannot be used on this machine (a tool is missing), or <see langword="null"/> when
    /// <c>named</c>, <c>nsupdate</c> and <c>dig</c> are all present.
    /// </summary>
    public static string? UnavailableReason => Tools.Value.MissingReason;

    /// <summary>Gets the path of the <c>named</c> binary in use, or <see langword="null"/> when it is missing.</summary>
    public static string? NamedPath => Tools.Value.Named;

    /// <summary>Gets a value indicating whether the environment says this is CI (<c>CI=true</c> or <c>CI=1</c>).</summary>
    public static bool IsCi =>
        Environment.GetEnvironmentVariable("CI") is { } ci &&
        (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    /// <summary>Gets the UDP and TCP endpoint named listens on (127.0.0.1 and a free port).</summary>
    /// <exception cref="InvalidOperationException">The server is not running (BIND missing or start failed).</exception>
    public IPEndPoint EndPoint => _endPoint ?? throw NotRunning();

    /// <summary>Gets the endpoint as a name server string, <c>127.0.0.1:port</c>, as <c>DnsResolverOptions.NameServers</c> takes it.</summary>
    public string NameServer => EndPoint.ToString();

    /// <summary>Gets the temporary directory holding named.conf, the zone files and their journals.</summary>
    public string WorkingDirectory => _directory ?? throw NotRunning();

    /// <summary>Gets the path of an (options-only) resolv.conf in <see cref="WorkingDirectory"/>: <c>options ndots:1 timeout:2 attempts:2</c>, no name server, no search list. Point a resolver at it to keep the host's resolv.conf out of a test.</summary>
    public string ResolvConfPath => Path.Combine(WorkingDirectory, "resolv.conf");

    /// <summary>Gets everything named wrote to stderr so far (its whole log, since it runs with <c>-g</c>).</summary>
    public string Log
    {
        get
        {
            lock (_logLock)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>
    /// Skips the calling test (xunit.v3's <c>Assert.Skip</c>) when BIND is not installed, or fails it when <c>CI=true</c>
    /// (CI must never silently skip the DNS integration tests).
    /// </summary>
    /// <exception cref="InvalidOperationException">BIND is missing and this is CI.</exception>
    public static void SkipIfUnavailable()
    {
        var reason = UnavailableReason;
        if (reason is null)
        {
            return;
        }

        if (IsCi)
        {
            throw new InvalidOperationException($"{reason}. CI=true, so the BIND integration tests fail instead of being skipped.");
        }

        Assert.Skip(reason);
    }

    /// <summary>Starts a private named with the seed zone (for tests that must not share the collection's instance).</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server; dispose it to stop named and delete its directory.</returns>
    public static async Task<BindServer> StartAsync(CancellationToken cancellationToken = default)
    {
        SkipIfUnavailable();
        var server = new BindServer();
        try
        {
            await server.StartCoreAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts named (xunit fixture hook). Does nothing when BIND is not installed: tests then skip or fail through <see cref="SkipIfUnavailable"/>.</summary>
    /// <returns>A task that completes when named answers.</returns>
    public async ValueTask InitializeAsync()
    {
        if (UnavailableReason is not null)
        {
            return;
        }

        try
        {
            await StartCoreAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
        {
            // Keep the reason for every test that touches the server; throwing here would hide it behind
            // xunit's generic "fixture failed" message.
            _startFailure = ex.Message;
        }
    }

    /// <summary>Stops named and deletes its directory (also the xunit fixture hook).</summary>
    /// <returns>A task that completes when named has exited.</returns>
    public async ValueTask DisposeAsync()
    {
        Live.TryRemove(this, out _);
        var process = _process;
        _process = null;
        _endPoint = null;
        if (process is not null)
        {
            await StopAsync(process);
            process.Dispose();
        }

        if (_directory is not null)
        {
            TryDeleteDirectory(_directory);
        }

        _updateLock.Dispose();
    }

    /// <summary>Adds a record with <c>nsupdate</c>. Names and data are taken as absolute (a missing trailing dot is added to the owner name).</summary>
    /// <param name="name">The owner name, in <c>internal</c> or <c>elsewhere</c>, e.g. <c>added.internal</c>.</param>
    /// <param name="ttl">The TTL in seconds.</param>
    /// <param name="type">The record type, e.g. <c>A</c>, <c>AAAA</c>, <c>SRV</c>, <c>CNAME</c>.</param>
    /// <param name="data">The RDATA in zone-file syntax, e.g. <c>127.0.0.9</c> or <c>1 1 3000 task-c.svc.internal.</c>.</param>
    /// <returns>A task that completes when named has accepted the update (it is visible to queries at once).</returns>
    public Task AddRecordAsync(string name, int ttl, string type, string data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ttl);
        return UpdateAsync(name, string.Create(CultureInfo.InvariantCulture, $"update add {Absolute(name)} {ttl} IN {Checked(type)} {Checked(data)}"));
    }

    /// <summary>Removes records with <c>nsupdate</c>.</summary>
    /// <param name="name">The owner name.</param>
    /// <param name="type">The record type.</param>
    /// <param name="data">The RDATA of the one record to remove; <see langword="null"/> removes the whole record set of that type.</param>
    /// <returns>A task that completes when named has accepted the update.</returns>
    public Task RemoveRecordAsync(string name, string type, string? data = null) =>
        UpdateAsync(name, data is null
            ? $"update delete {Absolute(name)} IN {Checked(type)}"
            : $"update delete {Absolute(name)} IN {Checked(type)} {Checked(data)}");

    /// <summary>Runs <c>dig @127.0.0.1 -p PORT +time=2 +tries=1 &lt;args&gt;</c> and returns its standard output.</summary>
    /// <param name="args">dig arguments separated by spaces, e.g. <c>three.internal A +short</c>.</param>
    /// <returns>dig's output.</returns>
    /// <exception cref="InvalidOperationException">dig failed.</exception>
    public async Task<string> DigAsync(string args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var argv = new List<string> { "@" + EndPoint.Address, "-p", EndPoint.Port.ToString(CultureInfo.InvariantCulture), "+time=2", "+tries=1" };
        argv.AddRange(args.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var (exit, stdout, stderr) = await RunToolAsync(Tools.Value.Dig!, argv, stdin: null);
        if (exit != 0)
        {
            throw new InvalidOperationException($"dig {string.Join(' ', argv)} exited with {exit}: {stderr}{stdout}");
        }

        return stdout;
    }

    /// <summary>Runs <c>dig +short</c> for one question and returns the answer lines, sorted ordinally (CNAME targets included, with their trailing dots).</summary>
    /// <param name="name">The name.</param>
    /// <param name="type">The type, e.g. <c>A</c>.</param>
    /// <returns>The lines of dig's short answer.</returns>
    public async Task<IReadOnlyList<string>> DigShortAsync(string name, string type)
    {
        var output = await DigAsync($"{name} {type} +short");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];
    }

    private static string Absolute(string name)
    {
        Checked(name);
        return name.EndsWith('.') ? name : name + ".";
    }

    private static string Checked(string value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(value);
        if (value.Contains('\n', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException("nsupdate input must be a single line.", nameof(value));
        }

        return value;
    }

    private static string ZoneOf(string name)
    {
        var n = name.TrimEnd('.');
        foreach (var zone in new[] { BindZone.Zone, BindZone.OtherZone })
        {
            if (n.Equals(zone, StringComparison.OrdinalIgnoreCase) || n.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase))
            {
                return zone;
            }
        }

        throw new ArgumentException($"'{name}' is in neither zone '{BindZone.Zone}' nor '{BindZone.OtherZone}'.", nameof(name));
    }

    private async Task UpdateAsync(string name, string updateLine)
    {
        var script = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"server {EndPoint.Address} {EndPoint.Port}\n")
            .Append(CultureInfo.InvariantCulture, $"zone {ZoneOf(name)}.\n")
            .Append(updateLine).Append('\n')
            .Append("send\n")
            .ToString();
        await _updateLock.WaitAsync();
        try
        {
            var (exit, stdout, stderr) = await RunToolAsync(Tools.Value.NsUpdate!, ["-4", "-t", "10"], script);
            if (exit != 0)
            {
                throw new InvalidOperationException($"nsupdate exited with {exit} for '{updateLine}': {stderr}{stdout}\nnamed log tail:\n{Tail(Log, 20)}");
            }
        }
        finally
        {
            _updateLock.Release();
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        InstallExitHook();
        Live[this] = true;
        _directory = Directory.CreateTempSubdirectory("cloudmap-bind-").FullName;
        var failures = new StringBuilder();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            var port = FindFreePort();
            var token = Guid.NewGuid().ToString("N");
            WriteConfiguration(_directory, port, token);
            lock (_logLock)
            {
                _log.Clear();
            }

            var process = StartNamed(Path.Combine(_directory, "named.conf"));
            _process = process;
            var outcome = await WaitUntilReadyAsync(process, new IPEndPoint(IPAddress.Loopback, port), token, cancellationToken);
            if (outcome is null)
            {
                _endPoint = new IPEndPoint(IPAddress.Loopback, port);
                return;
            }

            await StopAsync(process);
            process.Dispose();
            _process = null;
            failures.Append(CultureInfo.InvariantCulture, $"attempt {attempt} (port {port}): {outcome}\n");
            if (!_legacyBind && Log.Contains("unknown option 'max-records-per-type'", StringComparison.Ordinal))
            {
                _legacyBind = true;
                continue;
            }

            if (!outcome.StartsWith("port in use", StringComparison.Ordinal))
            {
                break;
            }
        }

        throw new InvalidOperationException(
            $"named ({Tools.Value.Named}) did not start:\n{failures}" +
            $"named log tail:\n{Tail(Log, 40)}" +
            (Directory.Exists("/sys/kernel/security/apparmor")
                ? "\nHint: AppArmor is active; Debian's profile for named denies its temporary directory. .ci/run switches that profile to complain mode."
                : string.Empty));
    }

    private void WriteConfiguration(string directory, int port, string token)
    {
        foreach (var stale in Directory.EnumerateFiles(directory))
        {
            File.Delete(stale);
        }

        // BIND 9.18.28 and later refuse RRsets of more than 100 records unless max-records-per-type
        // says otherwise (many.internal has 150); older versions do not know the option.
        var conf = $$"""
            options {
                directory "{{directory}}";
                pid-file "{{Path.Combine(directory, "named.pid")}}";
                session-keyfile "{{Path.Combine(directory, "session.key")}}";
                managed-keys-directory "{{directory}}";
                listen-on port {{port.ToString(CultureInfo.InvariantCulture)}} { 127.0.0.1; };
                listen-on-v6 { none; };
                recursion no;
                dnssec-validation no;
                notify no;
                {{(_legacyBind ? string.Empty : "max-records-per-type 0;")}}
                // Answer records in zone-file order, so replies (and captured wire bytes) are reproducible.
                rrset-order { order none; };
                // Outgoing queries (none are expected: notify is off, recursion is off) stay on loopback.
                query-source address 127.0.0.1;
            };
            controls { };
            zone "{{BindZone.Zone}}" {
                type primary;
                file "{{Path.Combine(directory, "internal.zone")}}";
                allow-update { 127.0.0.1; };
            };
            zone "{{BindZone.OtherZone}}" {
                type primary;
                file "{{Path.Combine(directory, "elsewhere.zone")}}";
                allow-update { 127.0.0.1; };
            };

            """;
        File.WriteAllText(Path.Combine(directory, "named.conf"), conf);
        File.WriteAllText(
            Path.Combine(directory, "internal.zone"),
            BindZone.InternalZoneFile() + $"{TokenName}. 60 IN TXT \"{token}\"\n");
        File.WriteAllText(Path.Combine(directory, "elsewhere.zone"), BindZone.OtherZoneFile());
        File.WriteAllText(Path.Combine(directory, "resolv.conf"), "options ndots:1 timeout:2 attempts:2\n");
    }

    private Process StartNamed(string configPath)
    {
        var psi = new ProcessStartInfo(Tools.Value.Named!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };

        // -g: foreground, log to stderr; -4: IPv4 only; -c: our config. No -u: it runs as the current user.
        foreach (var arg in new[] { "-g", "-4", "-c", configPath })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            if (_log.Length < 1_000_000)
            {
                _log.Append(line).Append('\n');
            }
        }
    }

    // Returns null when named answers (with our token, so it is our instance) over UDP and TCP; otherwise why not.
    private async Task<string?> WaitUntilReadyAsync(Process process, IPEndPoint endPoint, string token, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var tokenBytes = Encoding.ASCII.GetBytes(token);
        var lastError = "no answer yet";
        ushort id = 0x5100;
        while (deadline.Elapsed < StartTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var log = Log;
            if (log.Contains("address in use", StringComparison.OrdinalIgnoreCase) ||
                log.Contains("could not listen", StringComparison.OrdinalIgnoreCase))
            {
                return "port in use: " + FirstLineContaining(log, "listen");
            }

            if (log.Contains("not loaded due to errors", StringComparison.Ordinal))
            {
                return "a zone did not load: " + FirstLineContaining(log, "failed");
            }

            if (process.HasExited)
            {
                return $"named exited with code {process.ExitCode}";
            }

            try
            {
                var queryId = id++;
                var query = RawDns.Query(queryId, TokenName, RawDns.Txt, ednsPayloadSize: 1232);
                var udp = await RawDns.UdpExchangeAsync(endPoint, query, TimeSpan.FromMilliseconds(250));
                if (IsOurAnswer(udp, queryId, tokenBytes))
                {
                    var tcp = await RawDns.TcpExchangeAsync(endPoint, query, TimeSpan.FromSeconds(1));
                    if (IsOurAnswer(tcp, queryId, tokenBytes))
                    {
                        return null;
                    }

                    lastError = "TCP reply without our token";
                }
                else
                {
                    // Something else answered on this port, or the zone is not loaded yet.
                    lastError = udp.Length < RawDns.HeaderLength
                        ? $"a {udp.Length}-byte reply"
                        : $"reply without our token (id {RawDns.Id(udp)}, rcode {RawDns.ResponseCode(udp)})";
                }
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException or IOException)
            {
                lastError = ex.Message;
            }

            // Polling interval (not a readiness guess): named usually answers within ~100 ms of starting.
            await Task.Delay(25, cancellationToken);
        }

        return $"not ready after {StartTimeout.TotalSeconds:0} s: {lastError}";
    }

    // A NOERROR reply to this query (its ID) that carries the instance's token.
    private static bool IsOurAnswer(byte[] reply, ushort id, byte[] token) =>
        reply.Length >= RawDns.HeaderLength && RawDns.Id(reply) == id && RawDns.ResponseCode(reply) == 0 && reply.AsSpan().IndexOf(token) >= 0;

    private static int FindFreePort()
    {
        // A port free for both TCP and UDP on 127.0.0.1 right now; named binds it a moment later, and a
        // lost race shows up as "address in use" in its log, which makes StartCoreAsync try another port.
        for (var i = 0; i < 50; i++)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // UDP side taken; try another.
            }
        }

        throw new InvalidOperationException("No port free for both TCP and UDP on 127.0.0.1.");
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or will be reaped by the OS.
        }
    }

    private static void TryDeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref s_exitHookInstalled, 1) == 0)
        {
            // If the test host exits without disposing fixtures (Ctrl+C, a crash), do not leave named running.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var server in Live.Keys)
                {
                    try
                    {
                        if (server._process is { HasExited: false } p)
                        {
                            p.Kill(entireProcessTree: true);
                        }
                    }
                    catch (InvalidOperationException)
                    {
                    }
                }
            };
        }
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> RunToolAsync(string path, IEnumerable<string> args, string? stdin)
    {
        var psi = new ProcessStartInfo(path)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {path}.");
        var stdoutTask = process.StandardOutput.ReadToEndAsync();
        var stderrTask = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(path)} did not finish within {ToolTimeout.TotalSeconds:0} s.");
        }

        return (process.ExitCode, await stdoutTask, await stderrTask);
    }

    private InvalidOperationException NotRunning() => new(
        UnavailableReason is { } reason ? reason
        : _startFailure is { } failure ? failure
        : "The BIND server is not running (not started yet, or disposed).");

    private static string Tail(string text, int lines) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    private static string FirstLineContaining(string text, string word) =>
        text.Split('\n').FirstOrDefault(l => l.Contains(word, StringComparison.OrdinalIgnoreCase)) ?? string.Empty;

    private sealed record BindTools(string? Named, string? NsUpdate, string? Dig, string? MissingReason)
    {
        public static BindTools Find()
        {
            string? named;
            var overridePath = Environment.GetEnvironmentVariable(NamedPathVariable);
            if (!string.IsNullOrEmpty(overridePath))
            {
                named = File.Exists(overridePath) ? overridePath : null;
                if (named is null)
                {
                    return new BindTools(null, null, null, $"BIND (named) not found at {NamedPathVariable}={overridePath}: {InstallHint}");
                }
            }
            else
            {
                named = Which("named", "/usr/sbin", "/usr/local/sbin", "/sbin");
            }

            var nsupdate = Which("nsupdate", "/usr/bin", "/usr/local/bin", "/bin");
            var dig = Which("dig", "/usr/bin", "/usr/local/bin", "/bin");
            var missing = new[] { ("named", named), ("nsupdate", nsupdate), ("dig", dig) }
                .Where(t => t.Item2 is null)
                .Select(t => t.Item1)
                .ToList();
            var reason = missing.Count == 0
                ? null
                : missing.Contains("named")
                    ? $"BIND (named) not installed: {InstallHint}"
                    : $"BIND tools not installed ({string.Join(", ", missing)} missing): {InstallHint}";
            return new BindTools(named, nsupdate, dig, reason);
        }

        private static string? Which(string tool, params string[] extraDirectories)
        {
            var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(extraDirectories)
                .Select(d => Path.Combine(d, tool))
                .FirstOrDefault(File.Exists);
        }
    }
}
