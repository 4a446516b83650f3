using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using CloudMapDiscovery.Benchmarks;

// Modes that are not BenchmarkDotNet runs: `load` (throughput and per-address split under concurrency) and
// `dnsload` (DNS queries reaching the server at TTL 0 under 10,000 req/s). Everything else goes to
// BenchmarkDotNet's switcher (`--filter '*'`, `--job short|Dry`, `--list flat`, ...); `--quick` is `--job short`.
// Instances of the Cloud Map fake carry AVAILABILITY_ZONE, which makes the library ask where the process runs: no
// benchmark asks the machine's own metadata endpoints (the zones mode gives its caller a zone).
Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
Environment.SetEnvironmentVariable("ECS_CONTAINER_METADATA_URI_V4", null);

if (args.Length > 0 && args[0] == "zones")
{
    return await ZonesMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "load")
{
    return await LoadMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "gray")
{
    return await GrayMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "blackhole")
{
    return await BlackHoleMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "memory")
{
    return await MemoryMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "apiload")
{
    return await ApiLoadMode.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "dnsload")
{
    return await DnsLoadMode.RunAsync(args[1..]);
}

args = args.SelectMany(a => a == "--quick" ? new[] { "--job", "short" } : [a]).ToArray();

// In process by default (InProcessEmitToolchain): BenchmarkDotNet's usual out-of-process run generates and
// builds a separate project first, which takes minutes on a loaded 2-core machine (it hit BenchmarkDotNet's
// 2-minute build timeout here). `--outOfProcess` restores the default toolchain, with a longer build timeout.
var outOfProcess = args.Contains("--outOfProcess");
args = args.Where(a => a != "--outOfProcess").ToArray();
if (!outOfProcess && !args.Contains("--inProcess"))
{
    args = [.. args, "--inProcess"];
}

// Results go to benchmarks/BenchmarkDotNet.Artifacts when run from the repository root (git-ignored).
IConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));
if (!args.Contains("--artifacts") && Directory.Exists("benchmarks"))
{
    config = config.WithArtifactsPath(Path.GetFullPath(Path.Combine("benchmarks", "BenchmarkDotNet.Artifacts")));
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(PickBenchmarks).Assembly).Run(args, config).ToArray();

// A benchmark that throws or fails to build makes the run fail, so the CI dry run catches rot.
var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
var ranNothing = summaries.Length == 0 && args.Contains("--filter");
return failed || ranNothing ? 1 : 0;
