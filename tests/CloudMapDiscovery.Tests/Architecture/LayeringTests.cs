using System.Text.RegularExpressions;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Architecture;

/// <summary>
/// The library's layers are folders, each using only those below it: Http -> Balancing -> Discovery -> Dns
/// (Diagnostics beside them). These checks read the source, as a reviewer's grep would.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly string Library = Path.Combine(Repository.Root(), "src", "CloudMapDiscovery");

    [Theory]
    [InlineData("Dns", "Discovery|Balancing|Http")]
    [InlineData("Discovery", "Balancing|Http")]
    [InlineData("Balancing", "Http")]
    [InlineData("Diagnostics", "Discovery|Balancing|Http")]
    [InlineData("Shared", "Dns|Discovery|Balancing|Http")]
    public void A_layer_uses_no_layer_above_it(string layer, string above)
    {
        var uses = new Regex($@"\bCloudMapDiscovery\.({above})\b|^\s*using\s+({above})\.|\b({above})\.[A-Z]\w*\.", RegexOptions.Multiline);
        var offenders = SourceFiles(Path.Combine(Library, layer))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => !l.Text.TrimStart().StartsWith("//", StringComparison.Ordinal) && uses.IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(Library, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        offenders.Should().BeEmpty($"{layer} must not use {above}");
    }

    [Fact]
    public void The_ServiceDiscovery_package_uses_only_Discovery_and_below()
    {
        // It consumes endpoint sets and the host rules; picking, health and HTTP are Microsoft.Extensions.ServiceDiscovery's.
        var folder = Path.Combine(Repository.Root(), "src", "CloudMapDiscovery.ServiceDiscovery");
        var uses = new Regex(@"\bCloudMapDiscovery\.(Balancing|Http)\b");
        var offenders = SourceFiles(folder)
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => uses.IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(folder, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        offenders.Should().BeEmpty();
    }

    [Fact]
    public void No_source_file_is_over_300_lines()
    {
        var src = Path.Combine(Repository.Root(), "src");
        var long_ = SourceFiles(src)
            .Select(f => (File: Path.GetRelativePath(src, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 300)
            .ToList();

        long_.Should().BeEmpty("a file over 300 lines is doing two jobs");
    }

    [Fact]
    public void Background_work_starts_only_through_the_context()
    {
        // A timer or Task.Run captures the caller's execution context: the request that happened to start a sweep or
        // a probe would lend it its trace and keep its scoped state alive. CloudMapContext starts them detached.
        var starts = new Regex(@"\.CreateTimer\(|\bTask\.Run\(|\bnew\s+(System\.Threading\.)?Timer\(|ThreadPool\.QueueUserWorkItem\(");
        var offenders = SourceFiles(Library)
            .Where(f => Path.GetFileName(f) != "CloudMapContext.cs")
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => starts.IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(Library, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();

        offenders.Should().BeEmpty();
    }

    [Theory]
    [InlineData("CloudMapDiscovery")]
    [InlineData("CloudMapDiscovery.Testing")]
    [InlineData("CloudMapDiscovery.ServiceDiscovery")]
    [InlineData("CloudMapDiscovery.Cli")]
    public void Namespaces_follow_folders(string project)
    {
        // The one exception is .NET's convention for registration methods: files in a DependencyInjection folder
        // declare them in Microsoft.Extensions.DependencyInjection, so that they show up where users look.
        var folder = Path.Combine(Repository.Root(), "src", project);
        var declared = new Regex(@"^namespace ([\w.]+)", RegexOptions.Multiline);
        var wrong = SourceFiles(folder)
            .Select(f => (File: Path.GetRelativePath(folder, f), Namespace: declared.Match(File.ReadAllText(f)).Groups[1].Value))
            .Select(f => (f.File, f.Namespace, Expected: Path.GetDirectoryName(f.File) is { Length: > 0 } dir ? $"{project}.{dir.Replace(Path.DirectorySeparatorChar, '.')}" : project))
            .Where(f => f.Namespace != f.Expected && !(f.Expected.EndsWith(".DependencyInjection", StringComparison.Ordinal) && f.Namespace == "Microsoft.Extensions.DependencyInjection"))
            .Select(f => $"{f.File}: {f.Namespace}, expected {f.Expected}")
            .ToList();

        wrong.Should().BeEmpty();
    }

    private static IEnumerable<string> SourceFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
}
